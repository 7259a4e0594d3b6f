"""A build on a deliberately corrupted landing zone: nothing downstream of the failing check, one clear message."""

import io
import os
import re
import subprocess
import zipfile

import dagster as dg
import duckdb
import pytest

from dagster_project.settings import BIN_DIR, PROJECT_ROOT, load_settings
from dagster_project.sources import landing
from dagster_project.sources.baci import Release

pytestmark = pytest.mark.pipeline
RELEASE = Release("HS12", "V202501")
MARTS = ("marts.fct_sector_dependency", "marts.fct_product_dependency")


def tradedep(env, *args):
    return subprocess.run([BIN_DIR / "tradedep", *args], env=env, capture_output=True, text=True, timeout=900,
                          cwd=PROJECT_ROOT)


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("corrupt") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_") and k != "DAGSTER_HOME"}
    env.update({"TRADEDEP_DATA_DIR": str(data_dir), "TRADEDEP_YEARS": "2014-2015", "TRADEDEP_SOURCES": "baci"})
    result = tradedep(env, "build", "--sample")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    settings = load_settings({**env, "TRADEDEP_SAMPLE": "1"})
    return env, settings, run_id(result.stdout)


def run_id(stdout: str) -> str:
    return re.search(r"\(run ([0-9a-f-]+),", stdout).group(1)


def exported_files(settings) -> dict[str, tuple[int, bytes]]:
    """The export folder and the report, with each file's modification time and content."""
    files = [*settings.exports_dir.iterdir(), settings.report_path]
    return {path.name: (path.stat().st_mtime_ns, path.read_bytes()) for path in files}


def marts(settings):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return {name: con.sql(f"SELECT * FROM {name} ORDER BY ALL").fetchall() for name in MARTS}


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


def test_a_duplicated_key_and_an_unknown_country_stop_the_build_at_the_raw_check(clean):
    env, settings, first_run = clean
    before, exports_before = marts(settings), exported_files(settings)
    assert "fct_sector_dependency.parquet" in exports_before
    corrupt_year(settings, 2015, ["2015,999,156,854231,5.0,1.0"], duplicate_first_row=True)
    result = tradedep(env, "build", "--sample")
    assert result.returncode == 1
    reasons = result.stdout[result.stdout.index("FAILED:"):]
    assert "check gx_raw_baci_trade on raw/baci_trade failed" in reasons
    assert "expect_compound_columns_to_be_unique on t,i,j,k failed: 2 unexpected" in reasons
    assert "expect_column_values_to_be_in_set on i failed: 1 unexpected, e.g. [999]" in reasons
    assert marts(settings) == before  # nothing downstream of the failing check was rebuilt
    assert exported_files(settings) == exports_before  # nor exported, nor reported
    os.environ["DAGSTER_HOME"] = str(settings.dagster_home)
    try:
        with dg.DagsterInstance.get() as instance:
            event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "fct_sector_dependency"]))
    finally:
        del os.environ["DAGSTER_HOME"]
    assert event.run_id == first_run


def test_a_negative_value_fails_the_load_and_keeps_the_year(clean):
    env, settings, _ = clean
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        rows_before = con.execute("SELECT count(*) FROM raw.baci_trade WHERE t = 2014").fetchall()
    corrupt_year(settings, 2014, ["2014,842,156,854231,-5.0,1.0"], duplicate_first_row=False)
    result = tradedep(env, "build", "--sample")
    assert result.returncode == 1
    assert "BACI_HS12_Y2014_V202501.csv" in result.stdout and "a row has value v=-5.0" in result.stdout
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM raw.baci_trade WHERE t = 2014").fetchall() == rows_before
