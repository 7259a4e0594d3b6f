"""Reliability and security beyond the network: crashes, concurrent runs, bad files, input, exposure.

Network faults are in test_network_faults.py; docs/reliability.md maps every fault to its test.
"""

import os
import select
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from conftest import COUNTRIES_CSV, HEADER, PRODUCTS_CSV, RELEASE, release_members, trade_csv, write_zip

from dagster_project import cli
from dagster_project.settings import BIN_DIR, PROJECT_ROOT
from dagster_project.settings import build_file as build_file_of
from dagster_project.sources import baci
from dagster_project.sources.baci import BaciFormatError
from dagster_project.warehouse import WarehouseBusyError, build_lock, connect

SOURCE = {"sha256": "0" * 64, "url": "http://test/BACI_HS12_V202501.zip", "synthetic": False}
BIG_YEAR_ROWS = 130_000  # more than a DuckDB row group: the uncommitted rows reach the file before the kill

# ---------------------------------------------------------------- crash safety

# Loads the release's reference files and years into a warehouse the way the raw BACI assets do: one
# connection and one transaction per partition. With a year to stop at, it waits inside that year's
# transaction, after its rows are inserted and before the commit, until it is killed.
LOADER = r"""
import sys, time
from pathlib import Path
from dagster_project.sources import baci, landing
from dagster_project.warehouse import connect

zip_path, warehouse, scratch = map(Path, sys.argv[1:4])
years = [int(year) for year in sys.argv[4].split(",")]
stop_in = int(sys.argv[5]) if len(sys.argv) > 5 else None
release = baci.Release("HS12", "V202501")
source = {"sha256": landing.sha256_of(zip_path), "url": zip_path.as_uri(), "synthetic": False}
record_file = baci._record_file

def record_then_wait(con, member, *args):
    record_file(con, member, *args)
    if member == release.trade_member(stop_in or 0):
        print(f"inside the transaction of {stop_in}", flush=True)
        time.sleep(600)

baci._record_file = record_then_wait
with connect(warehouse) as con:
    baci.load_countries(con, zip_path, release, source)
    baci.load_products(con, zip_path, release, source)
for year in years:
    with connect(warehouse) as con:
        baci.load_trade_year(con, zip_path, release, year, source, scratch)
    print(f"loaded {year}", flush=True)
"""


def release_zip(path: Path, rows: int, value: int) -> Path:
    trade = {
        year: trade_csv(year, [(842, 156, f"{100000 + n % 900000:06d}", value + n, 1) for n in range(rows)])
        for year in (2015, 2016)
    }
    return write_zip(path, release_members(trade))


def loader(zip_path: Path, warehouse: Path, scratch: Path, stop_in: int | None = None) -> list[str]:
    return [sys.executable, "-c", LOADER, str(zip_path), str(warehouse), str(scratch), "2015,2016",
            *([str(stop_in)] if stop_in else [])]


def load(zip_path: Path, warehouse: Path, scratch: Path) -> None:
    result = subprocess.run(loader(zip_path, warehouse, scratch), capture_output=True, text=True, timeout=120,
                            cwd=PROJECT_ROOT)
    assert result.returncode == 0, result.stderr[-3000:]


def wait_for(process: subprocess.Popen, text: str, timeout: float = 120) -> None:
    """Read the process's output until `text` appears; fail with what it said if it never does."""
    seen = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.2)
        if ready:
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                break  # the process ended
            seen += chunk
    if text.encode() not in seen:
        process.kill()
        pytest.fail(f"never saw {text!r}; output: {seen.decode()[-2000:]} {process.stderr.read().decode()[-3000:]}")


def raw_state(warehouse: Path) -> dict[str, object]:
    """Row count and an order-free checksum of every raw table (load times left out), trade per year."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        state: dict[str, object] = {}
        tables = con.sql("SELECT table_name FROM duckdb_tables() WHERE schema_name = 'raw'").fetchall()
        for (table,) in tables:
            timestamps = [row[0] for row in con.sql(
                "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'raw' AND table_name = ? "
                "AND data_type LIKE 'TIMESTAMP%'", params=[table]).fetchall()]
            columns = f"* EXCLUDE ({', '.join(timestamps)})" if timestamps else "*"
            state[table] = con.sql(
                f"SELECT count(*), sum(hash(r)::HUGEINT) FROM (SELECT {columns} FROM raw.{table}) AS r").fetchall()[0]
        state["baci_trade by year"] = dict(
            (year, (count, checksum)) for year, count, checksum in con.sql(
                "SELECT t, count(*), sum(hash(r)::HUGEINT) FROM raw.baci_trade AS r GROUP BY t").fetchall())
        state["baci_files by member"] = dict(
            (member, (sha, rows)) for member, sha, rows in con.sql(
                "SELECT member, zip_sha256, row_count FROM raw.baci_files").fetchall())
    return state


def test_a_load_killed_inside_a_partition_keeps_the_warehouse_and_the_next_run_equals_a_clean_one(tmp_path):
    old = release_zip(tmp_path / "old" / RELEASE.zip_name, rows=1_000, value=7)
    new = release_zip(tmp_path / "new" / RELEASE.zip_name, rows=BIG_YEAR_ROWS, value=1)
    clean, warehouse, scratch = tmp_path / "clean.duckdb", tmp_path / "warehouse.duckdb", tmp_path / "scratch"
    load(new, clean, tmp_path / "clean-scratch")  # what a clean run gives
    load(old, warehouse, scratch)  # what the warehouse held before
    reference, before = raw_state(clean), raw_state(warehouse)

    process = subprocess.Popen(loader(new, warehouse, scratch, stop_in=2016), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, cwd=PROJECT_ROOT)
    try:
        wait_for(process, "inside the transaction of 2016")
        os.kill(process.pid, signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        process.kill()
        process.stdout.close()
        process.stderr.close()

    killed = raw_state(warehouse)
    member_2015, member_2016 = RELEASE.trade_member(2015), RELEASE.trade_member(2016)
    # 2016, the partition being loaded, is exactly as before; 2015 was loaded and committed by the killed run.
    assert killed["baci_trade by year"][2016] == before["baci_trade by year"][2016]
    assert killed["baci_files by member"][member_2016] == before["baci_files by member"][member_2016]
    assert killed["baci_trade by year"][2015] == reference["baci_trade by year"][2015]
    assert killed["baci_files by member"][member_2015] == reference["baci_files by member"][member_2015]
    assert list(scratch.glob(".extract-*"))  # the killed process left its extracted member behind

    load(new, warehouse, scratch)  # the next run
    assert raw_state(warehouse) == reference
    assert list(scratch.iterdir()) == []  # and cleared what the killed one left


# ---------------------------------------------------------------- concurrency


def tradedep(tmp_path: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_") and k != "DAGSTER_HOME"}
    env.update({"TRADEDEP_DATA_DIR": str(tmp_path / "data"), "TRADEDEP_YEARS": "2015-2016", "TRADEDEP_SOURCES": "baci"})
    return subprocess.run([BIN_DIR / "tradedep", *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=PROJECT_ROOT)


class Holder:
    """A separate process holding a lock on the warehouse until closed."""

    def __init__(self, code: str, warehouse: Path):
        self.process = subprocess.Popen([sys.executable, "-c", code, str(warehouse)], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=PROJECT_ROOT)
        wait_for(self.process, "holding")

    def close(self, kill: bool = False) -> None:
        if kill:
            self.process.send_signal(signal.SIGKILL)
        else:
            self.process.stdin.close()
        self.process.wait(timeout=30)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            stream.close()


HOLD_DUCKDB = "import duckdb, sys\ncon = duckdb.connect(sys.argv[1])\nprint('holding', flush=True)\nsys.stdin.read()"
HOLD_BUILD = (
    "import sys\nfrom pathlib import Path\nfrom dagster_project.warehouse import build_lock\n"
    "with build_lock(Path(sys.argv[1])):\n    print('holding', flush=True)\n    sys.stdin.read()"
)


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "data" / "warehouse.duckdb"
    with connect(path) as con:
        con.execute("CREATE SCHEMA raw")
        con.execute("CREATE TABLE raw.t AS SELECT range AS n FROM range(1000)")
    return path


def contents(path: Path) -> list[tuple]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("SELECT count(*), sum(n) FROM raw.t").fetchall()


def test_a_build_and_a_query_exit_busy_while_another_process_writes_their_file_and_nothing_is_corrupted(
        tmp_path, warehouse):
    """A build writes the build file, a query reads the warehouse (publish.py): each exits busy, naming the lock,
    while another process writes the file it opens."""
    build_file = build_file_of(warehouse)
    shutil.copy(warehouse, build_file)
    before = contents(warehouse)
    for path, command in ((build_file, ["build", "--sample"]), (warehouse, ["sql", "SELECT count(*) FROM raw.t"])):
        holder = Holder(HOLD_DUCKDB, path)
        try:
            result = tradedep(tmp_path, *command)
        finally:
            holder.close()
        assert result.returncode == cli.EXIT_BUSY, result.stdout[-2000:] + result.stderr[-2000:]
        assert f"{path} is locked by another process" in result.stderr and "Traceback" not in result.stderr
        assert contents(path) == before
    after = tradedep(tmp_path, "sql", "SELECT count(*) AS n FROM raw.t")
    assert after.returncode == 0 and "1000" in after.stdout


def test_a_second_build_exits_busy_saying_a_build_is_running_and_a_killed_build_leaves_no_lock(tmp_path, warehouse):
    before, build_file = contents(warehouse), build_file_of(warehouse)
    holder = Holder(HOLD_BUILD, build_file)
    try:
        second = tradedep(tmp_path, "build", "--sample")
        assert second.returncode == cli.EXIT_BUSY, second.stdout[-2000:] + second.stderr[-2000:]
        assert f"A build is already running on {build_file} (pid {holder.process.pid}, started" in second.stderr
        with pytest.raises(WarehouseBusyError, match="already running"):
            with build_lock(build_file):
                pass
    finally:
        holder.close(kill=True)  # SIGKILL: the operating system drops the lock with the process
    with build_lock(build_file):
        pass
    assert contents(warehouse) == before


def test_sql_is_read_only(tmp_path, warehouse):
    result = tradedep(tmp_path, "sql", "DROP TABLE raw.t")
    assert result.returncode == cli.EXIT_FAILED and "read-only" in result.stderr
    assert contents(warehouse) == [(1000, 499500)]


# ---------------------------------------------------------------- bad files


def test_a_zero_byte_zip_and_a_zip_without_members_are_refused(tmp_path):
    empty_file = tmp_path / "empty" / RELEASE.zip_name
    empty_file.parent.mkdir()
    empty_file.write_bytes(b"")
    with pytest.raises(BaciFormatError, match="not a readable zip"):
        baci.verify_release_zip(empty_file, RELEASE, (2019,))
    no_members = write_zip(tmp_path / "none" / RELEASE.zip_name, {})
    with pytest.raises(BaciFormatError, match=f"lacks the expected members: {RELEASE.countries_member}"):
        baci.verify_release_zip(no_members, RELEASE, (2019,))


@pytest.mark.parametrize(("content", "message"), [
    ("", r"BACI_HS12_Y2019_V202501.csv is empty: expected a header line t,i,j,k,v,q"),
    (HEADER, r"BACI_HS12_Y2019_V202501.csv: no rows after the header line"),
], ids=["empty-file", "header-only"])
def test_an_empty_year_file_is_refused_and_the_loaded_year_kept(tmp_path, content, message):
    good_year = trade_csv(2019, [(842, 156, "854231", 5, 1)])
    loaded = write_zip(tmp_path / "good" / RELEASE.zip_name, release_members({2019: good_year}))
    empty = write_zip(tmp_path / "bad" / RELEASE.zip_name, release_members({2019: content}))
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        baci.load_trade_year(con, loaded, RELEASE, 2019, SOURCE, tmp_path / "scratch")
        with pytest.raises(BaciFormatError, match=message):
            baci.load_trade_year(con, empty, RELEASE, 2019, SOURCE, tmp_path / "scratch")
        assert con.execute("SELECT count(*) FROM raw.baci_trade WHERE t = 2019").fetchall() == [(1,)]


@pytest.mark.parametrize("member", [RELEASE.countries_member, RELEASE.products_member])
def test_an_empty_reference_file_is_refused_naming_it(tmp_path, member):
    members = {RELEASE.countries_member: COUNTRIES_CSV, RELEASE.products_member: PRODUCTS_CSV, member: ""}
    path = write_zip(tmp_path / RELEASE.zip_name, members)
    with pytest.raises(BaciFormatError, match=f"{member}: line 1 has columns ''"):
        (baci.read_countries if member == RELEASE.countries_member else baci.read_products)(path, RELEASE)


# ---------------------------------------------------------------- input validation


@pytest.mark.parametrize("args", [["build", "--years", "2010-2013"], ["build", "--years", "2015;DROP TABLE x"],
                                  ["sql", "SELECT 1"]])
def test_bad_settings_stop_the_command_at_start_with_the_variable_named(capsys, tmp_path, args):
    env = {"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_HS_REVISION": "HS12" if args[0] == "build" else "HS2030"}
    assert cli.main(args, env) == cli.EXIT_USAGE
    error = capsys.readouterr().err
    assert ("TRADEDEP_YEARS" if args[0] == "build" else "TRADEDEP_HS_REVISION") in error and "Traceback" not in error
    assert list(tmp_path.iterdir()) == []  # nothing was started nor written


def test_a_data_directory_with_quotes_and_sql_in_its_name_is_only_a_name(tmp_path):
    """The one file path pasted into SQL (ATTACH of a new warehouse) is escaped, not executed."""
    odd = tmp_path / "it's'; DROP SCHEMA main; --" / "warehouse.duckdb"
    with connect(odd) as con:
        con.execute("CREATE TABLE t AS SELECT 42 AS answer")
    with connect(odd, read_only=True) as con:
        assert con.execute("SELECT answer FROM t").fetchall() == [(42,)]
    assert [path.name for path in odd.parent.iterdir()] == ["warehouse.duckdb"]


# ---------------------------------------------------------------- exposure


def test_every_host_option_defaults_to_this_machine_only():
    commands = next(action for action in cli._parser()._actions if action.dest == "command").choices
    hosts = {name: action.default for name, parser in commands.items() for action in parser._actions
             if action.dest == "host"}
    assert hosts and set(hosts.values()) == {"127.0.0.1"}, hosts


def test_the_ui_command_binds_127_0_0_1_unless_told_otherwise(monkeypatch, tmp_path):
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def popen(command, **options):  # records the command and runs one that exits at once in its place
        started.append([str(part) for part in command])
        return real_popen(["true"], start_new_session=True)

    monkeypatch.setattr(cli.subprocess, "Popen", popen)
    monkeypatch.setattr(cli.dbt_docs, "prepare_manifest", lambda settings: None)
    env = {"TRADEDEP_DATA_DIR": str(tmp_path)}
    assert cli.main(["ui"], env) == 0 and cli.main(["ui", "--host", "0.0.0.0", "--port", "8080"], env) == 0
    default, explicit = started
    assert default[default.index("--host") + 1] == "127.0.0.1"
    assert explicit[explicit.index("--host") + 1] == "0.0.0.0" and explicit[explicit.index("--port") + 1] == "8080"



FAKE_DAGSTER_DEV = """#!/bin/bash
# Stands in for `dagster dev`: it ends on SIGTERM, but a process it started ignores the signal.
(trap '' INT TERM; exec sleep 600) &
echo $! > "$LEFT_BEHIND_PID_FILE"
trap 'exit 0' INT TERM
sleep 600 & wait
"""
RUN_UI = """
import sys
from pathlib import Path
from dagster_project import cli
cli.BIN_DIR = Path(sys.argv[1])  # where `dagster` is found
cli.dbt_docs.prepare_manifest = lambda settings: None
sys.exit(cli.main(["ui"]))
"""


def test_sigterm_to_the_ui_stops_what_it_started_even_what_ignores_the_signal(tmp_path):
    fake_bin, pid_file = tmp_path / "bin", tmp_path / "left_behind.pid"
    fake_bin.mkdir()
    (fake_bin / "dagster").write_text(FAKE_DAGSTER_DEV)
    (fake_bin / "dagster").chmod(0o755)
    env = {**os.environ, "TRADEDEP_DATA_DIR": str(tmp_path / "data"), "LEFT_BEHIND_PID_FILE": str(pid_file)}
    ui = subprocess.Popen([sys.executable, "-c", RUN_UI, str(fake_bin)], env=env, cwd=PROJECT_ROOT,
                          stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text().strip()) and time.monotonic() < deadline:
        time.sleep(0.1)
    left_behind = int(pid_file.read_text())
    ui.send_signal(signal.SIGTERM)
    assert ui.wait(timeout=60) == 0
    for _ in range(50):  # the group's SIGKILL is delivered at once; its reaping may take a moment
        if not running(left_behind):
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"process {left_behind}, started by the UI's child, is still running")


def running(pid: int) -> bool:
    """Alive and not a zombie waiting for its parent."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
