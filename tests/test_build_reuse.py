"""The no-op fast path: `tradedep build` reuses the last whole build, without a run and without importing Dagster,
only when nothing it reads has changed and the warehouse is the one that build published; in every case where
tests/test_rebuilds.py expects a rebuild it refuses."""

import dataclasses
import os
import shutil
import subprocess
import sys

import duckdb
import pytest

from dagster_project import dbt_docs, fingerprints
from dagster_project.settings import PROJECT_ROOT, build_file, build_record_file, load_settings
from sample_build import YEARS, instance_of, tradedep

pytestmark = pytest.mark.pipeline
MART = "marts.fct_sector_dependency"
BUILD_AND_REPORT_DAGSTER = """
import sys
from dagster_project import cli
code = cli.main(sys.argv[1:])
print("dagster imported:", "dagster" in sys.modules)
sys.exit(code)
"""


def run_count(settings) -> int:
    with instance_of(settings) as instance:
        return len(instance.get_runs())


def file_states(settings) -> list[tuple[int, int]]:
    paths = (settings.warehouse_path, build_file(settings.warehouse_path))
    return [(path.stat().st_size, path.stat().st_mtime_ns) for path in paths]


def reusable(settings, select=None) -> bool:
    return fingerprints.reusable_build(settings, select).record is not None


def test_a_build_where_nothing_changed_is_reused_without_a_run_or_dagster(built_copy):
    settings = built_copy.settings
    runs, states = run_count(settings), file_states(settings)
    result = subprocess.run([sys.executable, "-c", BUILD_AND_REPORT_DAGSTER, "build", "--sample"], env=built_copy.env,
                            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    [marker] = [line for line in result.stdout.splitlines() if line.startswith(fingerprints.REUSE_MARKER)]
    recorded = fingerprints.reusable_build(settings).record
    assert recorded["run_id"] in marker and recorded["finished_at"] in marker  # which build, and from when
    assert result.stdout.splitlines()[-1] == "dagster imported: False"
    assert run_count(settings) == runs and file_states(settings) == states  # no run; the UI keeps the real one


@pytest.mark.parametrize("change", [
    {"years": YEARS[1:]},
    {"sources": ("baci", "comtrade")},
    {"sample": False},
    {"hs_revision": "HS17"},
    {"max_bad_row_share": 0.01},
    {"force": True},
    {"refresh": True},
])
def test_any_other_setting_or_a_flag_asking_for_work_runs(built, change):
    assert reusable(built.settings)
    assert not reusable(dataclasses.replace(built.settings, **change))


def test_a_changed_threshold_runs(built):
    """An analysis parameter (a dbt var) given as TRADEDEP_<NAME>, as a user sets it."""
    assert not reusable(load_settings({**built.env, "TRADEDEP_SAMPLE": "1", "TRADEDEP_TREND_STABLE_PP": "100"}))
    assert not reusable(built.settings, select='key:"report/dependency_report"')  # a selection always runs


def test_a_changed_landed_file_or_manifest_runs(built_copy):
    """Large landed files by size and modification time (a download or a rewrite changes them), JSON files (API
    answers, manifests) by content."""
    settings = built_copy.settings
    release = settings.landing_for("baci") / f"BACI_{settings.hs_revision}_{settings.baci_release}.zip"
    state = release.stat()
    os.utime(release, ns=(state.st_atime_ns, state.st_mtime_ns + 1_000_000_000))  # rewritten, say
    assert not reusable(settings)
    os.utime(release, ns=(state.st_atime_ns, state.st_mtime_ns))
    assert reusable(settings)  # as it was: nothing changed
    answer = next(path for path in settings.landing_for("worldbank").glob("*.json") if path.name != "manifest.json")
    answer.write_text(answer.read_text() + " ")
    assert not reusable(settings)
    answer.write_text(answer.read_text()[:-1])
    assert reusable(settings)
    manifest = settings.landing_for("baci") / "manifest.json"
    manifest.write_text(manifest.read_text() + " ")  # the same entries, other bytes
    assert not reusable(settings)


def test_a_changed_file_dbt_reads_or_a_changed_module_runs(built, tmp_path, monkeypatch):
    """On copies of the dbt project and of the code: the record was made from identical files."""
    project, code = tmp_path / "dbt", tmp_path / "dagster_project"
    shutil.copytree(dbt_docs.DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    shutil.copytree(fingerprints.CODE_DIR, code, ignore=shutil.ignore_patterns("__pycache__"))
    for module, name, value in ((dbt_docs, "DBT_PROJECT_DIR", project), (fingerprints, "DBT_PROJECT_DIR", project),
                                (fingerprints, "CODE_DIR", code)):
        monkeypatch.setattr(module, name, value)
    assert reusable(built.settings)
    model = project / "models" / "marts" / "fct_sector_dependency.sql"
    model.write_text(model.read_text() + "\n-- a comment is a change\n")
    assert not reusable(built.settings)
    model.write_text(model.read_text().removesuffix("\n-- a comment is a change\n"))
    assert reusable(built.settings)
    (project / "macros" / "new_macro.sql").write_text("{% macro nothing() %}{% endmacro %}\n")  # a new file
    assert not reusable(built.settings)
    (project / "macros" / "new_macro.sql").unlink()
    (code / "sources" / "baci.py").write_text((code / "sources" / "baci.py").read_text() + "\n")
    assert not reusable(built.settings)


def test_a_warehouse_not_as_the_last_build_left_it_runs(built_copy):
    settings = built_copy.settings
    assert reusable(settings)
    with duckdb.connect(str(settings.warehouse_path)) as con:  # a hand edit of the published warehouse
        con.execute(f"UPDATE {MART} SET supplier_hhi = 0.5 WHERE year = {YEARS[0]}")
    assert not reusable(settings)


def test_a_missing_warehouse_or_record_runs(built_copy):
    settings = built_copy.settings
    settings.warehouse_path.unlink()
    assert not reusable(settings)
    build_record_file(settings.warehouse_path).unlink()
    assert not reusable(settings)


def test_a_build_that_failed_or_was_not_published_is_not_reusable(built_copy):
    """A failed run leaves its build file apart from the warehouse it did not publish: not recorded, not reused."""
    settings = built_copy.settings
    with duckdb.connect(str(build_file(settings.warehouse_path))) as con:
        con.execute("CREATE TABLE main.written_by_a_failed_run AS SELECT 1 AS x")
    assert not reusable(settings)
    assert not fingerprints.record_whole_build(settings, "a-failed-run", fingerprints.build_inputs(settings))
    assert not reusable(settings)


def test_a_build_is_not_recorded_when_its_code_or_project_changed_while_it_ran(built_copy):
    settings = built_copy.settings
    before = fingerprints.build_inputs(settings)
    assert fingerprints.record_whole_build(settings, "a-run", before)
    assert not fingerprints.record_whole_build(settings, "a-run", {**before, "code": "as it was when the run began"})
    assert fingerprints.record_whole_build(settings, "a-run", {**before, "landing": "before the run landed files"})


def test_a_run_that_was_not_a_whole_build_voids_the_record(built_copy):
    """A selection runs (and publishes) part of the build: afterwards the next build runs too."""
    settings = built_copy.settings
    result = tradedep(built_copy.env, "build", "--sample", "--select", 'key:"report/dependency_report"')
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert not build_record_file(settings.warehouse_path).exists() and not reusable(settings)
