"""Performance at real scale (issue 7): the BACI load against bare DuckDB and pandas, and whole builds.

    .venv/bin/python benchmarks/scale.py --out /tmp/tradedep-bench

Generates a synthetic HS12 BACI release zip at real scale with the sample generator (12 years of
--rows-per-year rows, default 10 million, in --out, never in the repository; reused when already there), then
measures, each in a process of its own, on the same files:

  (a) load    the pipeline's load of one year (the release's last) into raw.baci_trade: baci.load_trade_year, as
              the raw/baci_trade asset calls it (extract the member, read_csv with quarantine and checks, replace)
  (b) bare    DuckDB read_csv of the same member, already extracted, into a table of an empty file: the limit
  (c) pandas  pandas read_csv of the same member from the zip, then China's imports by HS6 product and partner
              group for the year, as intermediate.int_china_product_imports_by_partner computes them (the result
              is compared with the warehouse of the 1-year build)
  (d) build   `tradedep build --sample --years ...` for each of --builds (default 1, 3 and 12 years, ending with the
              release's last), each in a fresh data directory whose landing zone already holds the generated
              release (a hard link, recorded in the folder's manifest as the synthetic sample, so the build uses it
              instead of generating the small one); dbt and every check included
  (e) no-op   the same build again in the same directory, nothing changed (the no-op fast path: no run)
  (f) sample  `tradedep build --sample` of SAMPLE_YEARS in a fresh directory (the small synthetic sample), then its
              no-op rebuild
  (g) ranges  landing the release's last year (its member, the country and product lists) from a local server
              that serves HTTP ranges, and the same from one that does not (the whole zip), with the bytes sent

(a), (b) and (c) run --repeats times, alternating; the median counts. Each measurement reports wall time, rows
per second and peak memory, sampled from /proc every 0.2 s: the largest single process's RSS and the whole
process tree's summed RSS (Dagster and dbt run side by side). Results go to
results.json and results.md in --out; the generated release and warehouses are deleted unless --keep.
"""

from __future__ import annotations

import argparse
import http.server
import json
import statistics
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from dagster_project.fingerprints import REUSE_MARKER
from dagster_project.sample import baci_sample
from dagster_project.settings import BIN_DIR, DBT_PROJECT_DIR, PROJECT_ROOT, load_settings, release_last_year
from dagster_project.sources import baci, landing
from dagster_project.warehouse import connect, create_if_missing

RELEASE = baci.Release("HS12", "V202501")
LAST_YEAR = release_last_year(RELEASE.release)
CHINA = 156
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")
MIB = 1 << 20
# Issue 15's targets.
MAX_COLD_BUILD_SECONDS = 300.0  # of the 12-year build
MAX_CHECK_SHARE = 0.15  # of that build's time
MAX_BUILD_PEAK_BYTES = 3 << 30
MAX_NOOP_SECONDS = 5.0
MAX_LOAD_OVER_EXTRACT_AND_BARE = 1.2
SAMPLE_YEARS = "2018-2023"  # the sample build the tests share (tests/sample_build.py)


# ---------------------------------------------------------------- measuring a child process


@dataclass
class Measured:
    """One child process: wall time, the largest process's peak RSS and the tree's sampled peak RSS."""

    seconds: float
    cpu_seconds: float  # user + system time of the process and its waited-for descendants
    peak_rss_bytes: int
    peak_tree_rss_bytes: int
    returncode: int
    stdout: str
    stderr: str


def descendants(root: int, parents: dict[int, int]) -> set[int]:
    """root and every process below it, given each process's parent."""
    children: dict[int, list[int]] = {}
    for pid, parent in parents.items():
        children.setdefault(parent, []).append(pid)
    found, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def tree_rss_bytes(root: int) -> tuple[int, int]:
    """Resident memory of root and its descendants now, from /proc: their sum and the largest (0 once gone)."""
    parents, rss = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            resident = int((entry / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue  # the process ended meanwhile
        pid = int(entry.name)
        parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])  # the name in parentheses may hold spaces
        rss[pid] = resident * PAGE_BYTES
    sizes = [rss.get(pid, 0) for pid in descendants(root, parents)]
    return sum(sizes), max(sizes, default=0)


def run_measured(command: list[str], env: dict[str, str] | None = None, interval: float = 0.2) -> Measured:
    """Run command to its end, sampling its process tree's memory meanwhile.

    Peaks come from the samples, not from the child's rusage: Linux's ru_maxrss of a child includes the
    memory of this (forking) process at the time of the fork, e.g. the release generated just before."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=out, stderr=err)
        peak_tree = peak_process = 0
        done = threading.Event()

        def sample() -> None:
            nonlocal peak_tree, peak_process
            while not done.is_set():
                tree, largest = tree_rss_bytes(process.pid)
                peak_tree, peak_process = max(peak_tree, tree), max(peak_process, largest)
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)  # this child's rusage, its waited-for descendants included
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        done.set()
        sampler.join()
        out.seek(0)
        err.seek(0)
        return Measured(seconds, usage.ru_utime + usage.ru_stime, peak_process, peak_tree, process.returncode,
                        out.read().decode(errors="replace"), err.read().decode(errors="replace"))


# ---------------------------------------------------------------- (a), (b), (c): run inside the child process


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def child_load(zip_path: Path, year: int, work: Path) -> dict[str, object]:
    """(a) The pipeline's load of one year into an empty warehouse, exactly as the asset calls it."""
    landed = landing.recorded_file(zip_path)
    settings = load_settings({"TRADEDEP_DATA_DIR": str(work)})
    started, cpu = time.perf_counter(), cpu_seconds()
    with connect(settings.warehouse_path) as con:
        stats = baci.load_trade_year(con, zip_path, RELEASE, year, landed.manifest_entry(), settings.scratch_dir,
                                     max_bad_row_share=settings.max_bad_row_share, skip_unchanged=True)
    return {"seconds": time.perf_counter() - started, "cpu_seconds": cpu_seconds() - cpu, "rows": stats.rows,
            "csv_bytes": stats.bytes}


def child_bare(zip_path: Path, year: int, work: Path) -> dict[str, object]:
    """(b) The member extracted (timed apart), then one bare read_csv into a table of an empty file."""
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in baci.TRADE_COLUMNS.items())
    database = work / "bare.duckdb"
    create_if_missing(database)  # the warehouse's storage version, so only the load path differs
    started = time.perf_counter()
    with baci.extracted_member(zip_path, RELEASE.trade_member(year), work / "tmp") as csv_path:
        extracted, cpu = time.perf_counter(), cpu_seconds()
        con = duckdb.connect(str(database))
        con.execute(f"CREATE TABLE trade AS SELECT * FROM read_csv(?, header = true, columns = {{{columns}}}, "
                    "auto_detect = false)", [str(csv_path)])
        rows = con.execute("SELECT count(*) FROM trade").fetchall()[0][0]
        con.close()
        finished = time.perf_counter()
    return {"seconds": finished - extracted, "cpu_seconds": cpu_seconds() - cpu, "extract_seconds": extracted - started,
            "rows": rows}


def child_pandas(zip_path: Path, year: int, work: Path) -> dict[str, object]:
    """(c) The usual script: pandas reads the member from the zip, then aggregates China's imports."""
    import pandas as pd

    started, cpu = time.perf_counter(), cpu_seconds()
    with zipfile.ZipFile(zip_path) as archive, archive.open(RELEASE.trade_member(year)) as member:
        trade = pd.read_csv(member, dtype={"t": "int16", "i": "int32", "j": "int32", "k": "str", "v": "float64",
                                           "q": "float64"})
    read = time.perf_counter()
    result = china_imports_by_partner_group(trade, pd.read_csv(DBT_PROJECT_DIR / "seeds" / "partner_group.csv",
                                                               dtype={"country_code": "Int32"}))
    finished = time.perf_counter()
    result.to_parquet(work / "pandas_result.parquet", index=False)
    return {"seconds": finished - started, "cpu_seconds": cpu_seconds() - cpu, "read_seconds": read - started,
            "rows": len(trade), "result_rows": len(result)}


def china_imports_by_partner_group(trade, groups):
    """China's imports in whole USD by product and partner group (pandas frames); a group row without a country
    stands for every exporter, the world, as in the partner_group seed."""
    import pandas as pd

    china = trade.loc[trade["j"] == CHINA, ["k", "i", "v"]]
    china = china.assign(imports_usd=(china["v"] * 1000).round().astype("int64"))[["k", "i", "imports_usd"]]
    members = groups.dropna(subset=["country_code"])[["partner_group", "country_code"]]
    parts = [china.merge(members, left_on="i", right_on="country_code")]
    parts += [china.assign(partner_group=name) for name in groups.loc[groups["country_code"].isna(), "partner_group"]]
    both = pd.concat([part[["k", "partner_group", "imports_usd"]] for part in parts], ignore_index=True)
    return both.groupby(["k", "partner_group"], as_index=False)["imports_usd"].sum()


LOAD_PHASES = (
    ("insert into raw.baci_trade", "read_csv + checks + insert (one statement)"),
    ("delete from raw.baci_trade ", "delete the year's old rows"),
    ("commit", "commit"),
)


def load_phase(query: str) -> str:
    """The profile's name for a statement the load runs."""
    words = " ".join(query.split()).lower()
    return next((phase for start, phase in LOAD_PHASES if words.startswith(start)),
                "other statements (tables, quarantine, load log)")


def child_profile(zip_path: Path, year: int, work: Path) -> dict[str, object]:
    """Where (a)'s time goes: the extraction, each kind of statement, and the Python between them."""
    phases: dict[str, float] = {}

    def add(phase: str, seconds: float) -> None:
        phases[phase] = phases.get(phase, 0.0) + seconds

    execute, extract = duckdb.DuckDBPyConnection.execute, baci.extracted_member

    def timed_execute(con, query, *args, **kwargs):
        started = time.perf_counter()
        try:
            return execute(con, query, *args, **kwargs)
        finally:
            add(load_phase(query), time.perf_counter() - started)

    @contextmanager
    def timed_extract(*args):
        started = time.perf_counter()
        with extract(*args) as path:
            add("extract the member to a temporary file", time.perf_counter() - started)
            yield path

    duckdb.DuckDBPyConnection.execute, baci.extracted_member = timed_execute, timed_extract
    landed = landing.recorded_file(zip_path)
    settings = load_settings({"TRADEDEP_DATA_DIR": str(work)})
    started = time.perf_counter()
    with connect(settings.warehouse_path) as con:
        opened = time.perf_counter()
        baci.load_trade_year(con, zip_path, RELEASE, year, landed.manifest_entry(), settings.scratch_dir,
                             max_bad_row_share=settings.max_bad_row_share, skip_unchanged=True)
        loaded = time.perf_counter()
    finished = time.perf_counter()
    phases["open the warehouse"] = opened - started
    phases["close (checkpoint)"] = finished - loaded
    phases["Python between the steps (header check, rejects, ...)"] = max(0.0, (loaded - opened) - sum(
        seconds for phase, seconds in phases.items() if phase not in ("open the warehouse", "close (checkpoint)")))
    return {"seconds": finished - started, "phases": phases}


CHILDREN = {"load": child_load, "bare": child_bare, "pandas": child_pandas, "profile": child_profile}


# ---------------------------------------------------------------- the harness


def generate_release(out: Path, rows_per_year: int) -> tuple[Path, float | None]:
    """The scaled release zip in out (generated once, then reused while its sha256 matches its manifest)."""
    zip_path = out / f"release-{rows_per_year}" / RELEASE.zip_name
    if landing.landed_file(zip_path) is not None:
        return zip_path, None
    log(f"generating {RELEASE.zip_name} with {rows_per_year:,} rows a year in {zip_path.parent} (minutes)")
    started = time.perf_counter()
    baci_sample.write_release_zip(zip_path, RELEASE, rows_per_year)
    landing.land_local_file(zip_path, baci_sample.SAMPLE_URL_SCHEME + RELEASE.zip_name, synthetic=True)
    return zip_path, time.perf_counter() - started


def years_ending_last(count: int) -> str:
    """The TRADEDEP_YEARS range of `count` years ending with the release's last year."""
    return f"{LAST_YEAR - count + 1}-{LAST_YEAR}"


def prepared_data_dir(folder: Path, zip_path: Path) -> dict[str, str]:
    """A fresh data directory whose sample landing folder already holds the release; the build's environment."""
    shutil.rmtree(folder, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_") and k != "DAGSTER_HOME"}
    env.update({"TRADEDEP_DATA_DIR": str(folder), "DAGSTER_HOME": str(folder / "dagster_home")})
    landing_dir = load_settings({**env, "TRADEDEP_SAMPLE": "1"}).baci_landing_dir
    landing_dir.mkdir(parents=True)
    os.link(zip_path, landing_dir / zip_path.name)  # no copy: the build only reads it
    landing.land_local_file(landing_dir / zip_path.name, baci_sample.SAMPLE_URL_SCHEME + zip_path.name, synthetic=True)
    return env


def run_child(kind: str, zip_path: Path, year: int, work: Path) -> dict[str, object]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    measured = run_measured([sys.executable, __file__, "--child", kind, "--zip", str(zip_path), "--year", str(year),
                             "--work", str(work)])
    if measured.returncode != 0:
        sys.exit(f"{kind} failed:\n{measured.stdout[-3000:]}\n{measured.stderr[-3000:]}")
    result = json.loads(measured.stdout.strip().splitlines()[-1])
    return {**result, **_memory(measured), "process_seconds": measured.seconds, "load_average": os.getloadavg()[0]}


def run_build(env: dict[str, str], years: str) -> dict[str, object]:
    """One `tradedep build`; a build reused as it was (the no-op fast path) has no run and no steps."""
    measured = run_measured([str(BIN_DIR / "tradedep"), "build", "--sample", "--years", years], env=env)
    if measured.returncode != 0:
        sys.exit(f"tradedep build --years {years} failed:\n{measured.stdout[-4000:]}\n{measured.stderr[-4000:]}")
    reused = any(line.startswith(REUSE_MARKER) for line in measured.stdout.splitlines())
    steps = {} if reused else step_seconds(Path(env["DAGSTER_HOME"]),
                                             re.search(r"\(run ([0-9a-f-]+),", measured.stdout).group(1))
    return {"seconds": measured.seconds, "cpu_seconds": measured.cpu_seconds, **_memory(measured), "reused": reused,
            "steps": step_groups(steps), "step_seconds": steps, "load_average": os.getloadavg()[0]}


def sample_builds(folder: Path) -> dict[str, object]:
    """(f): the small synthetic sample built cold in a fresh directory, then again with nothing changed."""
    shutil.rmtree(folder, ignore_errors=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_") and k != "DAGSTER_HOME"}
    env.update({"TRADEDEP_DATA_DIR": str(folder), "DAGSTER_HOME": str(folder / "dagster_home")})
    return {"years": SAMPLE_YEARS, "cold": run_build(env, SAMPLE_YEARS), "noop": run_build(env, SAMPLE_YEARS)}


class _ZipServer(http.server.ThreadingHTTPServer):
    """Serves one file at any path, with HTTP ranges (one per request) or without; counts the bytes it sends."""

    def __init__(self, path: Path, ranges: bool) -> None:
        super().__init__(("127.0.0.1", 0), _ZipHandler)
        self.file, self.ranges, self.sent, self.requests = path, ranges, 0, 0


class _ZipHandler(http.server.BaseHTTPRequestHandler):
    server: _ZipServer

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        size = self.server.file.stat().st_size
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", self.headers.get("Range", "")) if self.server.ranges else None
        start, end = 0, size - 1
        if match:
            first, last = match.groups()
            start = max(size - int(last), 0) if not first else int(first)
            end = min(int(last), size - 1) if first and last else size - 1
        self.server.requests += 1
        self.send_response(206 if match else 200)
        if match:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.send_header("Content-Length", str(end - start + 1))
        self.end_headers()
        with self.server.file.open("rb") as handle:
            handle.seek(start)
            remaining = end - start + 1
            try:
                while remaining:
                    chunk = handle.read(min(1 << 20, remaining))
                    self.wfile.write(chunk)
                    self.server.sent += len(chunk)
                    remaining -= len(chunk)
            except (BrokenPipeError, ConnectionResetError):  # the client read what it wanted (a whole-file answer)
                pass

    def log_message(self, *args: object) -> None:
        pass


def range_downloads(zip_path: Path, work: Path) -> dict[str, object]:
    """(g): land the last year's members from a server with ranges and from one without; the bytes each sent."""
    needed = RELEASE.expected_members((LAST_YEAR,))
    with zipfile.ZipFile(zip_path) as archive:
        needed_bytes = sum(archive.getinfo(member).compress_size for member in needed)
    results: dict[str, object] = {"members": needed, "needed_compressed_bytes": needed_bytes,
                                  "zip_bytes": zip_path.stat().st_size}
    for label, ranges in (("ranges", True), ("no_ranges", False)):
        folder = work / f"download-{label}"
        shutil.rmtree(folder, ignore_errors=True)
        server = _ZipServer(zip_path, ranges)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            started = time.perf_counter()
            landed, _ = baci.ensure_release(folder, RELEASE, f"http://127.0.0.1:{server.server_port}/baci", (LAST_YEAR,))
            seconds = time.perf_counter() - started
        finally:
            server.shutdown()
            server.server_close()
        results[label] = {"seconds": seconds, "bytes_sent": server.sent, "requests": server.requests,
                          "members_landed": list(landed.members) if landed.members else "all",
                          "disk_bytes": landed.path.stat().st_blocks * 512, "load_average": os.getloadavg()[0]}
        shutil.rmtree(folder, ignore_errors=True)
    return results


def _memory(measured: Measured) -> dict[str, int]:
    return {"peak_rss_bytes": measured.peak_rss_bytes, "peak_tree_rss_bytes": measured.peak_tree_rss_bytes}


def step_seconds(dagster_home: Path, run_id: str) -> dict[str, float]:
    """Each step's duration, from the run's Dagster instance."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(dagster_home)
    with dg.DagsterInstance.get() as instance:
        steps = instance.get_run_step_stats(run_id)
    return {step.step_key: round(step.end_time - step.start_time, 2) for step in steps if step.end_time and step.start_time}


def step_groups(steps: dict[str, float]) -> dict[str, float]:
    """Step time by kind: the BACI year loads, dbt, the GX checks, everything else."""
    groups = {"baci_load": 0.0, "dbt": 0.0, "checks": 0.0, "other": 0.0}
    for key, seconds in steps.items():
        kind = ("checks" if "_gx_" in key else "baci_load" if key == "raw__baci_trade" else
                "dbt" if "dbt" in key else "other")
        groups[kind] = round(groups[kind] + seconds, 2)
    return groups


# The pandas aggregation as one query on the loaded warehouse: what answering the question again costs after a load.
WAREHOUSE_QUERY = """
    SELECT k, partner_group, sum(CAST(round(v * 1000) AS BIGINT)) AS imports_usd
    FROM raw.baci_trade JOIN seeds.partner_group ON country_code = i OR country_code IS NULL
    WHERE t = ? AND hs_revision = ? AND j = 156
    GROUP BY k, partner_group"""


def compare_with_warehouse(result: Path, warehouse: Path, year: int) -> dict[str, object]:
    """Whether pandas's aggregation equals the warehouse's, row by row; and the time of WAREHOUSE_QUERY."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        started = time.perf_counter()
        con.execute(f"CREATE TEMP TABLE answered AS {WAREHOUSE_QUERY}", [year, RELEASE.hs_revision])
        query_seconds = time.perf_counter() - started
        same_as_query = con.execute(
            "SELECT count(*) FROM (SELECT * FROM answered EXCEPT ALL SELECT k, partner_group, imports_usd FROM read_parquet(?))",
            [str(result)]).fetchall()[0][0] == 0
        rows, differing, in_warehouse, in_pandas = con.execute(
            """WITH w AS (SELECT hs6 AS k, partner_group, imports_usd
                          FROM intermediate.int_china_product_imports_by_partner WHERE year = ?),
                    p AS (SELECT k, partner_group, imports_usd FROM read_parquet(?))
               SELECT count(*), count(*) FILTER (WHERE w.imports_usd IS DISTINCT FROM p.imports_usd),
                      count(w.imports_usd), count(p.imports_usd)
               FROM w FULL JOIN p ON w.k = p.k AND w.partner_group = p.partner_group""",
            [year, str(result)],
        ).fetchall()[0]
    return {"rows": rows, "differing_rows": differing, "warehouse_rows": in_warehouse, "pandas_rows": in_pandas,
            "equal": differing == 0 and rows > 0 and same_as_query, "query_seconds": query_seconds}


def median_run(runs: list[dict[str, object]]) -> dict[str, object]:
    """The run with the median time (the middle one; the faster of the middle two), with every time kept."""
    ordered = sorted(runs, key=lambda run: run["seconds"])
    return {**ordered[(len(ordered) - 1) // 2], "all_seconds": [round(run["seconds"], 2) for run in runs]}


def summarise(results: dict[str, object]) -> dict[str, object]:
    """Ratios, growth and issue 15's targets, from the measurements."""
    load, bare, pandas = (results["measurements"][key] for key in ("a_load", "b_bare", "c_pandas"))
    builds = {int(count): run for count, run in results["builds"].items()}
    first, last = min(builds), max(builds)
    cold = builds[last]["cold"]
    ratios = {
        "load_over_bare": load["seconds"] / bare["seconds"],
        "load_over_extract_and_bare": load["seconds"] / (bare["seconds"] + bare["extract_seconds"]),
        "pandas_over_load": pandas["seconds"] / load["seconds"],
        "build_time_growth": cold["seconds"] / builds[first]["cold"]["seconds"],
        "build_memory_growth": cold["peak_tree_rss_bytes"] / builds[first]["cold"]["peak_tree_rss_bytes"],
        "years_growth": last / first,
        "check_share": cold["steps"]["checks"] / cold["seconds"],
    }
    noops = {f"{count} years": run["noop"] for count, run in sorted(builds.items())}
    noops["the sample"] = results["sample"]["noop"]
    ranges = results["range_download"]
    targets = [
        (f"{last}-year cold build under {MAX_COLD_BUILD_SECONDS:.0f} s", f"{cold['seconds']:.0f} s",
         cold["seconds"] < MAX_COLD_BUILD_SECONDS),
        (f"checks under {MAX_CHECK_SHARE:.0%} of it", f"{cold['steps']['checks']:.0f} s, {ratios['check_share']:.1%}",
         ratios["check_share"] < MAX_CHECK_SHARE),
        (f"peak memory of the {last}-year build under 3 GiB", f"{cold['peak_tree_rss_bytes'] / MIB:,.0f} MiB",
         cold["peak_tree_rss_bytes"] < MAX_BUILD_PEAK_BYTES),
        *((f"no-op rebuild under {MAX_NOOP_SECONDS:.0f} s, {label}", f"{run['seconds']:.1f} s" +
           ("" if run["reused"] else " (ran)"), run["seconds"] < MAX_NOOP_SECONDS and run["reused"])
          for label, run in noops.items()),
        (f"(a) within {MAX_LOAD_OVER_EXTRACT_AND_BARE}x of extraction + (b)", f"{ratios['load_over_extract_and_bare']:.2f}x",
         ratios["load_over_extract_and_bare"] <= MAX_LOAD_OVER_EXTRACT_AND_BARE),
        ("ranges: only the needed members fetched", f"{ranges['ranges']['bytes_sent'] / MIB:,.1f} MiB sent for "
         f"{ranges['needed_compressed_bytes'] / MIB:,.1f} MiB of members, {ranges['ranges']['seconds']:.1f} s",
         ranges["ranges"]["members_landed"] == ranges["members"]
         and ranges["ranges"]["bytes_sent"] < ranges["needed_compressed_bytes"] + (1 << 20)),
        ("no ranges: the whole zip landed", f"{ranges['no_ranges']['seconds']:.1f} s",
         ranges["no_ranges"]["members_landed"] == "all"),
    ]
    return {"ratios": ratios, "targets": [{"target": t, "measured": m, "holds": bool(h)} for t, m, h in targets]}


def markdown(results: dict[str, object]) -> str:
    rows_per_year = results["rows_per_year"]
    lines = [
        f"Machine: {results['machine']['cpu']}, {results['machine']['cores']} cores, "
        f"{results['machine']['ram_gib']:.0f} GiB RAM; {results['date']}; {rows_per_year:,} rows a year "
        f"({results['member_bytes'] / MIB:,.0f} MiB of CSV, the zip of 12 years {results['zip_bytes'] / MIB:,.0f} MiB). "
        f"Load average (1, 5, 15 min) at the start {_loads(results['load_average_start'])}, at the end "
        f"{_loads(results['load_average_end'])} on {results['machine']['cores']} cores (other work on the machine "
        "slows every figure).",
        "",
        "| measurement | rows | wall s | CPU s | rows/s | peak RSS, largest process (MiB) | peak RSS, process tree (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]

    def row(label: str, rows: int, run: dict[str, object]) -> None:
        lines.append(f"| {label} | {rows:,} | {run['seconds']:.1f} | {run['cpu_seconds']:.1f} | {rows / run['seconds']:,.0f} | "
                     f"{run['peak_rss_bytes'] / MIB:,.0f} | {run['peak_tree_rss_bytes'] / MIB:,.0f} |")

    year = results["year"]
    m = results["measurements"]
    row(f"(a) pipeline load of {year} (`load_trade_year`)", m["a_load"]["rows"], m["a_load"])
    row(f"(b) bare DuckDB `read_csv` of {year} (member already extracted)", m["b_bare"]["rows"], m["b_bare"])
    row(f"(c) pandas `read_csv` + China-imports aggregation of {year}", m["c_pandas"]["rows"], m["c_pandas"])
    for count, run in sorted(results["builds"].items(), key=lambda item: int(item[0])):
        rows = int(count) * rows_per_year
        row(f"(d) `tradedep build`, {count} years ({run['years']})", rows, run["cold"])
        row(f"(e) no-op rebuild, {count} years", rows, run["noop"])
    sample = results["sample"]
    row(f"(f) `tradedep build --sample`, {sample['years']}", results["sample_rows"], sample["cold"])
    row("(f) no-op rebuild of the sample", results["sample_rows"], sample["noop"])
    ranges = results["range_download"]
    lines += ["", f"(g) landing {LAST_YEAR} ({', '.join(ranges['members'])}: {ranges['needed_compressed_bytes'] / MIB:,.1f} "
              f"MiB compressed) from the {ranges['zip_bytes'] / MIB:,.0f} MiB zip:", "",
              "| server | s | requests | MiB sent | members landed | MiB on disk |", "|---|---:|---:|---:|---|---:|"]
    for label in ("ranges", "no_ranges"):
        run = ranges[label]
        members = run["members_landed"] if run["members_landed"] == "all" else f"{len(run['members_landed'])} members"
        lines.append(f"| {'serves ranges' if label == 'ranges' else 'no ranges (whole file)'} | {run['seconds']:.1f} | "
                     f"{run['requests']} | {run['bytes_sent'] / MIB:,.1f} | {members} | {run['disk_bytes'] / MIB:,.1f} |")
    lines += ["", "| target | measured | holds |", "|---|---|---|"]
    lines += [f"| {t['target']} | {t['measured']} | {'yes' if t['holds'] else '**no**'} |"
              for t in results["summary"]["targets"]]
    ratios = results["summary"]["ratios"]
    lines += [
        "",
        f"(a)/(b) = {ratios['load_over_bare']:.2f}; (a)/(extraction + (b)) = {ratios['load_over_extract_and_bare']:.2f} "
        f"(extracting the member takes {m['b_bare']['extract_seconds']:.1f} s); (c)/(a) = {ratios['pandas_over_load']:.1f}. "
        f"Times of each repeat: (a) {m['a_load']['all_seconds']}, (b) {m['b_bare']['all_seconds']}, "
        f"(c) {m['c_pandas']['all_seconds']} s. The pandas result equals the warehouse's "
        f"`int_china_product_imports_by_partner` for {year} row by row: {results['pandas_check']['equal']} "
        f"({results['pandas_check']['rows']:,} product x partner-group rows); the same aggregation as one SQL query "
        f"on the loaded warehouse takes {results['pandas_check']['query_seconds']:.2f} s.",
        "",
        "| build | BACI year loads s | dbt s | GX checks s | other steps s |",
        "|---|---:|---:|---:|---:|",
    ]
    for count, run in [*sorted(results["builds"].items(), key=lambda item: int(item[0])), ("sample", results["sample"])]:
        for label in ("cold", "noop"):
            steps = run[label]["steps"]
            lines.append(f"| {count}{'' if count == 'sample' else ' years'}, {'cold' if label == 'cold' else 'no-op'} | {steps['baci_load']:.1f} | "
                         f"{steps['dbt']:.1f} | {steps['checks']:.1f} | {steps['other']:.1f} |")
    return "\n".join(lines) + "\n"


def _loads(averages: list[float]) -> str:
    return " / ".join(f"{value:.1f}" for value in averages)


def profile_load(out: Path, zip_path: Path, repeats: int) -> None:
    """Run the profiled load `repeats` times; write the median of each phase to load_profile.json and .md."""
    runs = [run_child("profile", zip_path, LAST_YEAR, out / "work" / "profile") for _ in range(repeats)]
    phases = {phase: statistics.median(run["phases"][phase] for run in runs) for phase in runs[0]["phases"]}
    total = statistics.median(run["seconds"] for run in runs)
    (out / "load_profile.json").write_text(json.dumps({"runs": runs, "median": phases}, indent=2), encoding="utf-8")
    lines = [f"| phase of (a), {LAST_YEAR} (median of {repeats}) | s | share |", "|---|---:|---:|"]
    lines += [f"| {phase} | {seconds:.2f} | {seconds / total:.0%} |"
              for phase, seconds in sorted(phases.items(), key=lambda item: -item[1])]
    lines.append(f"| whole load (median) | {total:.2f} | |")
    (out / "load_profile.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


def machine() -> dict[str, object]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    memory_kib = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gib": memory_kib / (1 << 20), "python": platform.python_version(),
            "duckdb": duckdb.__version__, "platform": platform.platform()}


def save(out: Path, results: dict[str, object]) -> None:
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")


def versions() -> dict[str, str]:
    from importlib.metadata import version

    packages = ("dagster", "dagster-dbt", "dbt-core", "dbt-duckdb", "duckdb", "duckdb-engine", "sqlalchemy",
                "great-expectations", "polars", "pandas", "httpx")
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True).stdout.strip()
    return {"commit": commit or "unknown", **{package: version(package) for package in packages}}


def log(message: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "tradedep-bench")
    parser.add_argument("--rows-per-year", type=int, default=10_000_000)
    parser.add_argument("--builds", default="1,3,12", help="numbers of years to build, ending with the release's last")
    parser.add_argument("--repeats", type=int, default=3, help="runs of (a), (b) and (c); the median counts")
    parser.add_argument("--keep", action="store_true", help="keep the generated release and the warehouses")
    parser.add_argument("--profile-load", action="store_true",
                        help="only profile (a): where the load's time goes, --repeats times (load_profile.md)")
    parser.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    parser.add_argument("--zip", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--year", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--work", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args.zip, args.year, args.work)))
        return
    out = args.out.expanduser().resolve()
    if out == PROJECT_ROOT or PROJECT_ROOT in out.parents:
        sys.exit("--out must be outside the repository")
    counts = sorted({int(part) for part in args.builds.split(",")})
    zip_path, generation = generate_release(out, args.rows_per_year)
    if args.profile_load:
        profile_load(out, zip_path, args.repeats)
        return
    results: dict[str, object] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine(),
        "rows_per_year": args.rows_per_year, "year": LAST_YEAR, "generation_seconds": generation,
        "zip_bytes": zip_path.stat().st_size,
        "member_bytes": baci.list_members(zip_path)[RELEASE.trade_member(LAST_YEAR)],
        "load_average_start": os.getloadavg(), "versions": versions(),
    }
    runs: dict[str, list[dict[str, object]]] = {"a_load": [], "b_bare": [], "c_pandas": []}
    for repeat in range(args.repeats):
        for key, kind in (("b_bare", "bare"), ("a_load", "load"), ("c_pandas", "pandas")):
            log(f"{key} {repeat + 1}/{args.repeats}")
            runs[key].append(run_child(kind, zip_path, LAST_YEAR, out / "work" / kind))
            log(f"  {runs[key][-1]['seconds']:.1f} s")
    results["measurements"] = {key: median_run(values) for key, values in runs.items()}
    results["builds"] = {}
    for count in counts:
        folder = out / f"build-{count}"
        env = prepared_data_dir(folder, zip_path)
        years = years_ending_last(count)
        log(f"build {years}")
        cold = run_build(env, years)
        log(f"  {cold['seconds']:.1f} s; no-op rebuild")
        noop = run_build(env, years)
        log(f"  {noop['seconds']:.1f} s")
        results["builds"][str(count)] = {"years": years, "cold": cold, "noop": noop}
        save(out, results)  # what was measured so far, kept if a later step fails
        if count == counts[0]:
            results["pandas_check"] = compare_with_warehouse(out / "work" / "pandas" / "pandas_result.parquet",
                                                             folder / "warehouse.duckdb", LAST_YEAR)
        if not args.keep:
            shutil.rmtree(folder)
    log(f"sample build {SAMPLE_YEARS}")
    results["sample"] = sample_builds(out / "build-sample")
    with duckdb.connect(str(out / "build-sample" / "warehouse.duckdb"), read_only=True) as con:
        results["sample_rows"] = con.execute("SELECT count(*) FROM raw.baci_trade").fetchall()[0][0]
    if not args.keep:
        shutil.rmtree(out / "build-sample")
    save(out, results)
    log("range downloads")
    results["range_download"] = range_downloads(zip_path, out / "work")
    results["load_average_end"] = os.getloadavg()
    save(out, results)
    results["summary"] = summarise(results)
    (out / "results.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    (out / "results.md").write_text(markdown(results), encoding="utf-8")
    if not args.keep:
        shutil.rmtree(out / "work", ignore_errors=True)
        shutil.rmtree(zip_path.parent, ignore_errors=True)
    print(markdown(results))


if __name__ == "__main__":
    main()
