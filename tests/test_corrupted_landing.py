"""A build on a deliberately corrupted landing zone, on copies of the session's sample build: nothing downstream of the
failing check, one clear message."""

import io
import json
import zipfile

import dagster as dg
import duckdb
import pytest

from dagster_project.sources import landing
from dagster_project.sources.baci import Release
from sample_build import YEARS, instance_of, tradedep

pytestmark = pytest.mark.pipeline
RELEASE = Release("HS12", "V202501")
MARTS = ("marts.fct_sector_dependency", "marts.fct_product_dependency")
# The BACI part of the build and everything downstream of it: dbt, the marts' checks, exports, report.
BACI_AND_DOWNSTREAM = 'key:"landing/baci_release"+'


def exported_files(settings) -> dict[str, tuple[int, bytes]]:
    """The export folder and the report, with each file's modification time and content."""
    files = [*settings.exports_dir.iterdir(), settings.report_path]
    return {path.name: (path.stat().st_mtime_ns, path.read_bytes()) for path in files}


def marts(settings):
    """The marts in the warehouse readers use and in the build's own file (publish.py), which a failed build
    does not publish."""
    return {str(path): _marts_in(path) for path in (settings.warehouse_path, settings.for_build().warehouse_path)}


def _marts_in(path):
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: con.sql(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in MARTS}


def baci_rows(path, year: int):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("SELECT count(*) FROM raw.baci_trade WHERE t = ?", [year]).fetchall()


def corrupt_year(settings, year: int, extra_lines: list[str], duplicate_first_row: bool) -> None:
    """Rewrite one year of the landed sample zip and record it as landed, so the next build uses it."""
    path = settings.baci_landing_dir / RELEASE.zip_name
    member = RELEASE.trade_member(year)
    buffer = io.BytesIO()
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == member:
                lines = content.decode().splitlines()
                lines += lines[1:2] if duplicate_first_row else []
                content = ("\n".join(lines + extra_lines) + "\n").encode()
            target.writestr(info.filename, content)
    path.write_bytes(buffer.getvalue())
    landing.land_local_file(path, url="sample://tradedep/corrupted", synthetic=True)


def test_a_duplicated_key_and_an_unknown_country_stop_the_build_at_the_raw_check(built_copy):
    env, settings = built_copy.env, built_copy.settings
    before, exports_before = marts(settings), exported_files(settings)
    assert "fct_sector_dependency.parquet" in exports_before
    with instance_of(settings) as instance:
        built_in = instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_sector_dependency"])).run_id
    year = YEARS[1]
    corrupt_year(settings, year, [f"{year},999,156,854231,5.0,1.0"], duplicate_first_row=True)
    assert tradedep(env, "build", "--sample", "--select", BACI_AND_DOWNSTREAM).returncode == 1
    suite = json.loads((settings.quality_dir / "raw_baci_trade.json").read_text())
    failed = {(o["expectation"], o["column"]): o for o in suite["outcomes"] if not o["success"]}
    duplicated = failed["expect_compound_columns_to_be_unique", "t,i,j,k"]
    assert duplicated["unexpected_count"] == 1 and duplicated["rows"][0]["copies"] == 2  # one key, in two rows
    assert [row["i"] for row in failed["expect_column_values_to_be_in_reference", "i"]["rows"]] == [999]
    assert marts(settings) == before  # nothing downstream of the failing check was rebuilt
    assert exported_files(settings) == exports_before  # nor exported, nor reported
    with instance_of(settings) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_sector_dependency"]))
        run = instance.get_runs(limit=1)[0]
    assert event.run_id == built_in and run.status == dg.DagsterRunStatus.FAILURE


def test_a_negative_value_fails_the_load_naming_file_and_value_and_keeps_the_year(built_copy):
    env, settings = built_copy.env, built_copy.settings
    year = YEARS[0]
    rows_before = baci_rows(settings.for_build().warehouse_path, year)
    corrupt_year(settings, year, [f"{year},842,156,854231,-5.0,1.0"], duplicate_first_row=False)
    result = tradedep(env, "build", "--sample", "--select", BACI_AND_DOWNSTREAM)
    assert result.returncode == 1
    assert f"BACI_HS12_Y{year}_V202501.csv" in result.stdout and "a row has value v=-5.0" in result.stdout
    # The failed load kept the year in the build's file, and the warehouse readers use was not touched.
    assert baci_rows(settings.for_build().warehouse_path, year) == baci_rows(settings.warehouse_path, year) == rows_before
