"""Shared fixtures: small hand-written BACI release zips, settings in a temporary data directory."""

import dataclasses
import itertools
import os
import shutil
import zipfile
from pathlib import Path

import duckdb
import pytest

from dagster_project.settings import load_settings
from dagster_project.sources.baci import Release
from dagster_project.sources import landing
from dagster_project.sources.landing import LandedFile, sha256_of

REFERENCE_DIR = Path(__file__).resolve().parents[2] / "shared" / "reference"
# The one reason every test that reads the recorded real source files gives when they are absent.
REFERENCE_SKIP = "../shared/reference (real recorded source files, beside the repository) is absent"


def needs_reference(path: Path) -> pytest.MarkDecorator:
    """Skip a test that reads this file or folder of ../shared/reference when it is absent."""
    return pytest.mark.skipif(not path.exists(), reason=REFERENCE_SKIP)


# The files that build a warehouse, longest first: pytest-xdist (--dist loadfile, --no-loadscope-reorder) hands files
# to its workers in this order, so the long ones start at once, side by side, and the many short files fill in after.
LONGEST_FIRST = ("test_pipeline.py", "test_live_sources.py", "test_real_baci.py", "test_rebuilds.py", "test_surfaces.py",
                 "test_corrupted_landing.py", "test_network_faults.py", "test_raw_suites.py")


def pytest_collection_modifyitems(items):
    rank = {name: position for position, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: each file keeps its own order


RELEASE = Release("HS12", "V202501")
HEADER = "t,i,j,k,v,q\n"


def trade_csv(year: int, rows: list[tuple]) -> str:
    return HEADER + "".join(",".join(str(value) for value in row) + "\n" for row in [(year, *r) for r in rows])


COUNTRIES_CSV = (
    "country_code,country_name,country_iso2,country_iso3\n"
    "156,China,CN,CHN\n"
    "276,Germany,DE,DEU\n"
    "384,CÃ´te d'Ivoire,CI,CIV\n"
    "516,Namibia,,NAM\n"
    "842,USA,US,USA\n"
)
PRODUCTS_CSV = 'code,description\n010121,"Horses: live, pure-bred breeding animals"\n854231,Processors and controllers\n'


def write_zip(path: Path, members: dict[str, str | bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def release_members(trade: dict[int, str]) -> dict[str, str]:
    members = {RELEASE.countries_member: COUNTRIES_CSV, RELEASE.products_member: PRODUCTS_CSV}
    members.update({RELEASE.trade_member(year): content for year, content in trade.items()})
    return members


class FakeTime:
    """Stands in for the time module inside landing.py: each sleep is recorded and moves the clock on at once, so
    tests see the exact waits (backoff, Retry-After, throttle) and never wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time(monkeypatch) -> FakeTime:
    fake = FakeTime()
    monkeypatch.setattr(landing, "time", fake)
    return fake


@pytest.fixture
def settings(tmp_path):
    return load_settings({"TRADEDEP_DATA_DIR": str(tmp_path / "data"), "TRADEDEP_YEARS": "2019-2020"})


def load_raw(settings, spec, paths: list[Path], max_bad_row_share: float = 0.5):
    """Load landed files into an API source's raw table as its raw asset does; returns what was parsed."""
    from dagster_project.assets.sources import load_table  # imports Dagster: only the tests that load need it

    files = [LandedFile(path, f"file://{path}", path.stat().st_size, sha256_of(path), "", False) for path in paths]
    return load_table(dataclasses.replace(settings, max_bad_row_share=max_bad_row_share), spec, files)


_frames = itertools.count()


def validate_frame(name, frame, expectations, folder: Path, database: Path | None = None):
    """Validate a frame (e.g. a table's rows, broken on purpose) as a suite validates its table, with SQL in DuckDB:
    as one table of a copy of `database` (whose reference tables the suite's queries may read), or of a new file."""
    from dagster_project.quality.gx_runner import run_suite_sql

    copy = folder / f"frame_{next(_frames)}.duckdb"
    if database is not None:
        shutil.copy(database, copy)
    with duckdb.connect(str(copy)) as con:
        con.register("frame", frame)
        con.execute("CREATE TABLE main.validated_frame AS SELECT * FROM frame")
    return run_suite_sql(name, copy, "SELECT * FROM main.validated_frame", expectations)


def clean_frame(parsed):
    """The rows a parser read from a good file, after checking that it set none apart."""
    assert parsed.bad_rows == (), parsed.bad_rows
    return parsed.frame


def warehouse_rows(settings, query: str) -> list[tuple]:
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.execute(query).fetchall()


def quarantined(settings) -> list[tuple]:
    """raw.quarantine's rows: (source, file, line, reason, content)."""
    return warehouse_rows(settings, "SELECT source, file, line, reason, content FROM raw.quarantine ORDER BY ALL")


@pytest.fixture(scope="session")
def built(tmp_path_factory, worker_id):
    """The sample warehouse built by `tradedep build --sample` once per test session (the first worker to ask builds
    it, the others wait): read it, never write it; a test that writes takes a copy (`built_copy`)."""
    from sample_build import shared_build

    # .ci/run gives its test steps one folder (TRADEDEP_TEST_BUILD_ROOT): the Spark step's session then reuses the
    # sample build the default run left there instead of building it again.
    shared = os.environ.get("TRADEDEP_TEST_BUILD_ROOT")
    root = tmp_path_factory.getbasetemp()
    return shared_build(Path(shared) if shared else root if worker_id == "master" else root.parent)


@pytest.fixture
def built_copy(built, tmp_path):
    """A copy of the session's sample build, for a test that writes (a rebuild, a tampered mart, a recorded check)."""
    from sample_build import copy_of

    return copy_of(built, tmp_path / "data")


def assert_too_many_bad_rows_fail(settings, spec, path: Path, bad_text: str, message: str) -> None:
    """Load the landed file as it is, rewrite it as bad_text and load again (at most half the rows may be bad):
    the second load fails with `message`, and the raw table and raw.quarantine keep what the first one wrote."""
    from dagster_project.sources.quarantine import TooManyBadRowsError

    def snapshot():
        return warehouse_rows(settings, f"SELECT * FROM {spec.table} ORDER BY ALL"), quarantined(settings)

    load_raw(settings, spec, [path])
    before = snapshot()
    assert before[0], "the first load should load rows"
    path.write_text(bad_text, encoding="utf-8")
    with pytest.raises(TooManyBadRowsError, match=message):
        load_raw(settings, spec, [path], max_bad_row_share=0.5)
    assert snapshot() == before
