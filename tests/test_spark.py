"""The sample built on Spark (`tradedep build --sample --engine spark`) gives the same marts as the DuckDB build, row for
row: EXCEPT ALL both ways on every column but the doubles, and each double within a relative 1e-12 of DuckDB's on the
mart's key, or within 1e-12 of it where the value is near zero. Marked `spark`: the default `python -m pytest` leaves it out (-m "not spark"), .ci/run runs it as a step
of its own (`python -m pytest -m spark`). Without a JVM or the Spark environment it skips, except in CI, where it fails.
"""

import os
import shutil
import time

import duckdb
import pytest

from dagster_project import dbt_docs, raw_tables, spark_engine
from dagster_project.settings import SettingsError, load_settings
from sample_build import copy_of, tradedep

RELATIVE_TOLERANCE = 1e-12
# Near zero a relative tolerance asks too much: a change of share (a difference of two shares near 0.08) of -3e-4
# carries the shares' rounding from summing in another order (a few units in their 16th digit), 4e-12 of itself.
# Shares, ratios and their changes have 1 as their unit, so they also agree when 1e-12 apart (numpy's isclose).
ABSOLUTE_TOLERANCE = 1e-12
FLOATING = ("DOUBLE", "FLOAT")


def mart_differences(con: duckdb.DuckDBPyConnection, expected: str, actual: str, key: list[str]) -> dict[str, object]:
    """How the relation `actual` differs from `expected` (two relations con reads): column names and types, rows
    of one that the other lacks on the exact columns (integers, decimals, text, dates, flags: EXCEPT ALL each way),
    and rows whose doubles differ by more than the relative tolerance, matched on the key."""
    columns = con.execute(f"DESCRIBE SELECT * FROM {expected}").fetchall()
    actual_columns = con.execute(f"DESCRIBE SELECT * FROM {actual}").fetchall()
    differences: dict[str, object] = {}
    if [(name, kind) for name, kind, *_ in columns] != [(name, kind) for name, kind, *_ in actual_columns]:
        differences["columns"] = ([column[:2] for column in columns], [column[:2] for column in actual_columns])
        return differences
    exact = ", ".join(f'"{name}"' for name, kind, *_ in columns if kind not in FLOATING)
    doubles = [name for name, kind, *_ in columns if kind in FLOATING]
    for label, left, right in (("missing", expected, actual), ("extra", actual, expected)):
        rows = con.execute(f"SELECT {exact} FROM {left} EXCEPT ALL SELECT {exact} FROM {right} LIMIT 5").fetchall()
        if rows:
            differences[label] = rows
    if doubles:
        assert key, f"{expected} has doubles but no key to match its rows on"
        on = " AND ".join(f'e."{name}" IS NOT DISTINCT FROM a."{name}"' for name in key)
        apart = " OR ".join(
            f'NOT (e."{name}" IS NOT DISTINCT FROM a."{name}" OR abs(e."{name}" - a."{name}") '
            f'<= greatest({ABSOLUTE_TOLERANCE}, {RELATIVE_TOLERANCE} * greatest(abs(e."{name}"), abs(a."{name}"))))'
            for name in doubles)
        rows = con.execute(f"SELECT e.*, a.* FROM {expected} e JOIN {actual} a ON {on} WHERE {apart} LIMIT 5").fetchall()
        if rows:
            differences["doubles"] = rows
    return differences


def test_mart_differences_finds_a_changed_value_a_lost_row_and_a_double_beyond_the_tolerance():
    con = duckdb.connect()
    con.execute("CREATE TABLE expected AS SELECT * FROM (VALUES (1, 'a', 10::DECIMAL(38,0), 0.1::DOUBLE), "
                "(2, 'b', 20::DECIMAL(38,0), 1e300::DOUBLE), (3, 'c', 30::DECIMAL(38,0), NULL::DOUBLE)) t(k, s, d, x)")
    con.execute("CREATE TABLE same AS SELECT k, s, d, x * (1 + 1e-14) AS x FROM expected")
    assert mart_differences(con, "expected", "same", ["k"]) == {}
    con.execute("CREATE TABLE changed AS SELECT k, CASE WHEN k = 2 THEN 'B' ELSE s END AS s, d, x FROM expected")
    assert set(mart_differences(con, "expected", "changed", ["k"])) == {"missing", "extra"}
    con.execute("CREATE TABLE lost AS SELECT * FROM expected WHERE k < 3")
    assert mart_differences(con, "expected", "lost", ["k"]) == {"missing": [(3, "c", 30)]}
    con.execute("CREATE TABLE drifted AS SELECT k, s, d, CASE WHEN k = 1 THEN x * (1 + 1e-9) ELSE x END AS x FROM expected")
    assert list(mart_differences(con, "expected", "drifted", ["k"])) == ["doubles"]
    con.execute("CREATE TABLE near_zero AS SELECT k, s, d, CASE WHEN k = 1 THEN -3.16e-4 ELSE x END AS x FROM expected")
    con.execute("CREATE TABLE near_zero_rounded AS SELECT k, s, d, CASE WHEN k = 1 THEN -3.16e-4 + 1.4e-15 ELSE x END AS x "
                "FROM expected")
    assert mart_differences(con, "near_zero", "near_zero_rounded", ["k"]) == {}  # 4e-12 relative, 1.4e-15 apart
    con.execute("CREATE TABLE retyped AS SELECT k, s, d::DOUBLE AS d, x FROM expected")
    assert list(mart_differences(con, "expected", "retyped", ["k"])) == ["columns"]


def test_the_engine_setting_picks_the_dbt_target_and_its_vars(tmp_path):
    base = {"TRADEDEP_DATA_DIR": str(tmp_path / "data"), "TRADEDEP_YEARS": "2019-2020",
            "DBT_ENV_SECRET_SPARK_TOKEN": "s3cret", "TRADEDEP_SPARK_USER": "analyst"}
    duck = load_settings(base)
    assert (duck.engine, duck.dbt_target, duck.dbt_executable.name) == ("duckdb", "dev", "dbt")
    spark_dbt = tmp_path / "dbt"
    spark_dbt.touch()
    spark = load_settings({**base, "TRADEDEP_ENGINE": "spark", "TRADEDEP_SPARK_DBT": str(spark_dbt)})
    assert (spark.dbt_target, spark.dbt_executable) == ("spark", spark_dbt)
    assert spark.dbt_vars()["raw_parquet"] == str(tmp_path / "data" / "spark" / "raw")
    assert spark.dbt_vars()["spark_warehouse"] == str(tmp_path / "data" / "spark" / "warehouse")
    assert spark.model_vars() == duck.model_vars()  # the engine changes where the models run, not what they compute
    cluster = load_settings({**base, "TRADEDEP_ENGINE": "spark", "TRADEDEP_SPARK_DBT": str(spark_dbt),
                             "TRADEDEP_SPARK_METHOD": "http", "TRADEDEP_SPARK_HOST": "example.cloud.databricks.com",
                             "TRADEDEP_SPARK_CLUSTER": "0101-abc", "TRADEDEP_SPARK_RAW_LOCATION": "s3a://bucket/raw/"})
    assert cluster.dbt_target == "spark_databricks"
    assert cluster.dbt_vars()["raw_parquet"] == "s3a://bucket/raw"
    assert load_settings(cluster.process_env()) == cluster  # a child process (the UI) builds the same settings
    for settings in (duck, spark, cluster):  # credentials stay in the environment, where dbt reads them
        shown = f"{settings!r} {settings.dbt_vars()} {settings.process_env()}"
        assert "s3cret" not in shown and "analyst" not in shown


@pytest.mark.parametrize("env, message", [
    ({"TRADEDEP_ENGINE": "postgres"}, "TRADEDEP_ENGINE"),
    ({"TRADEDEP_ENGINE": "spark", "TRADEDEP_SPARK_DBT": "/nowhere/dbt"}, "TRADEDEP_SPARK_DBT"),
    ({"TRADEDEP_SPARK_METHOD": "odbc"}, "TRADEDEP_SPARK_METHOD"),
    ({"TRADEDEP_ENGINE": "spark", "TRADEDEP_SPARK_METHOD": "thrift", "TRADEDEP_SPARK_DBT": __file__}, "TRADEDEP_SPARK_HOST"),
    ({"TRADEDEP_SPARK_PORT": "http"}, "TRADEDEP_SPARK_PORT"),
])
def test_bad_engine_settings_are_refused_naming_the_variable(tmp_path, env, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), **env})


def test_raw_tables_are_written_as_parquet_partitioned_by_year_and_replaced_whole(tmp_path):
    con = duckdb.connect()
    raw_tables.create_all(con)
    con.execute("INSERT INTO raw.baci_trade VALUES (2019, 4, 156, '010121', 1.5, NULL, 'HS12', 'V202501', true), "
                "(2020, 4, 156, '010121', 2.5, 3.0, 'HS12', 'V202501', true)")
    con.execute("INSERT INTO raw.baci_countries VALUES (156, 'China', 'CN', 'CHN', 'V202501')")
    tables = [("raw", "baci_trade"), ("raw", "baci_countries"), ("raw", "oecd_tiva")]
    folder = tmp_path / "raw"
    assert spark_engine.write_raw_parquet(con, tables, folder) == {
        "raw.baci_trade": 2, "raw.baci_countries": 1, "raw.oecd_tiva": 0}
    assert sorted(path.name for path in (folder / "baci_trade").iterdir()) == ["t=2019", "t=2020"]
    read = con.execute(f"SELECT * EXCLUDE (t), t FROM read_parquet('{folder}/baci_trade/*/*.parquet', "
                       "hive_partitioning = true) ORDER BY t").fetchall()
    assert read == con.execute("SELECT * EXCLUDE (t), t FROM raw.baci_trade ORDER BY t").fetchall()
    # An empty table still has a file with its columns, for Spark to read them from.
    assert con.execute(f"DESCRIBE SELECT * FROM '{folder}/oecd_tiva/*.parquet'").fetchall()
    con.execute("DELETE FROM raw.baci_trade WHERE t = 2019")
    spark_engine.write_raw_parquet(con, tables[:1], folder)
    assert sorted(path.name for path in folder.iterdir()) == ["baci_countries", "baci_trade", "oecd_tiva"]
    assert [path.name for path in (folder / "baci_trade").iterdir()] == ["t=2020"]


def test_the_tables_spark_built_are_read_into_the_warehouse_and_a_missing_one_fails(tmp_path):
    con = duckdb.connect()
    (tmp_path / "marts.db" / "dim_x").mkdir(parents=True)
    con.execute(f"COPY (SELECT 1 AS a, 'x' AS b) TO '{tmp_path}/marts.db/dim_x/part-00000.parquet' (FORMAT parquet)")
    spark_engine.read_built_tables(con, [("marts", "dim_x")], tmp_path)
    assert con.execute("SELECT * FROM marts.dim_x").fetchall() == [(1, "x")]
    with pytest.raises(FileNotFoundError, match="marts.dim_y"):
        spark_engine.read_built_tables(con, [("marts", "dim_y")], tmp_path)


def spark_missing(settings) -> str | None:
    if not shutil.which("java"):
        return "no Java runtime (apt-get install openjdk-17-jre-headless)"
    if not settings.spark_dbt.exists():
        return f"no dbt with the Spark adapter at {settings.spark_dbt} (README: the Spark environment)"
    return None


@pytest.fixture(scope="module")
def spark_build(built, tmp_path_factory):
    """A copy of the session's DuckDB sample build, built again with `tradedep build --sample --engine spark`."""
    problem = spark_missing(load_settings({**built.env, "TRADEDEP_SAMPLE": "1"}))
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"CI runs the Spark comparison: {problem}")
        pytest.skip(problem)
    copy = copy_of(built, tmp_path_factory.mktemp("spark") / "data")
    started = time.monotonic()
    run = tradedep(copy.env, "build", "--sample", "--engine", "spark", timeout=1800)
    print(f"Spark sample build: {time.monotonic() - started:.0f} s")
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return copy, run


@pytest.mark.spark
def test_every_mart_built_on_spark_equals_the_duckdb_build_row_for_row(built, spark_build):
    copy, run = spark_build
    settings = load_settings({**copy.env, "TRADEDEP_SAMPLE": "1", "TRADEDEP_ENGINE": "spark"})
    marts = dbt_docs.mart_docs()
    assert len(marts) >= 15
    con = duckdb.connect()
    con.execute(f"ATTACH '{built.settings.warehouse_path}' AS duck (READ_ONLY)")
    compared, differences = 0, {}
    for mart in marts:
        files = settings.spark_warehouse / "marts.db" / mart.name
        spark = f"read_parquet('{files}/*.parquet')"
        compared += con.execute(f"SELECT count(*) FROM {spark}").fetchone()[0]
        found = mart_differences(con, f"duck.marts.{mart.name}", spark, mart.key)
        if found:
            differences[mart.name] = found
    assert differences == {}
    assert compared > 10_000  # the sample's marts hold rows: the comparison compared something


@pytest.mark.spark
def test_the_spark_build_checks_and_exports_the_marts_it_built(spark_build):
    copy, run = spark_build
    with duckdb.connect(str(copy.settings.warehouse_path), read_only=True) as con:
        sources = con.execute("SELECT count(*) FROM marts.fct_sector_dependency").fetchone()[0]
    assert sources > 0
    assert (copy.settings.exports_dir / "fct_sector_dependency.parquet").exists()
    assert "SYNTHETIC SAMPLE" in run.stdout
