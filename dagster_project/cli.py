"""`tradedep`: build the warehouse, open the UI, query it read-only, run the quality checks, export the marts.

Exit codes: 0 success; 1 the build or a check failed; 2 bad settings or arguments, or a source
cannot be reached; 3 the warehouse is locked by another process, or another build is running.
"""

from __future__ import annotations

import argparse
import functools
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from dagster_project import dbt_docs
from dagster_project.settings import BIN_DIR, ENGINES, PROJECT_ROOT, Settings, SettingsError, load_settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_BUSY = 0, 1, 2, 3
UI_STOP_SECONDS = 30  # for dagster dev to stop its webserver and daemon before what is left is ended


def main(argv: list[str] | None = None, env: dict[str, str] | None = None) -> int:
    """Run one command; the settings come from `env` (this process's environment by default) and the flags."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        settings = load_settings({**(os.environ if env is None else env), **_overrides(args)})
        return args.handler(args, settings)
    except SettingsError as error:
        print(f"tradedep: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tradedep", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    build = commands.add_parser("build", help="materialise every asset (or a selection) into the warehouse")
    build.add_argument("--sample", action="store_true", help="build offline from the synthetic sample (no network)")
    build.add_argument("--years", help="years to load, e.g. 2012-2023 or 2015,2023 (default: TRADEDEP_YEARS)")
    build.add_argument("--refresh", action="store_true", help="download source files again even if landed")
    build.add_argument(
        "--engine", choices=ENGINES,
        help="where dbt builds the models: duckdb (default) or spark (docs/scale-out.md) (default: TRADEDEP_ENGINE)",
    )
    build.add_argument(
        "--force", action="store_true",
        help="run dbt and validate every suite even when nothing they read has changed since they last passed",
    )
    build.add_argument(
        "--select",
        help='Dagster asset selection, e.g. \'key:"raw/baci_trade"+\' (a source and what depends on it)',
    )
    build.add_argument(
        "-v", "--verbose", action="store_true",
        help="print everything (Dagster logs, every dbt line) instead of one progress line per step and a log file",
    )
    build.set_defaults(handler=_build)

    ui = commands.add_parser("ui", help="start the Dagster UI (dagster dev) on 127.0.0.1")
    ui.add_argument("--port", type=int, default=3000, help="port (default 3000)")
    ui.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1: this machine only)")
    ui.add_argument("--sample", action="store_true", help="materialisations from the UI use the synthetic sample")
    ui.set_defaults(handler=_ui)

    sql = commands.add_parser(
        "sql", help="run a read-only SQL query against the warehouse and print the result",
        description="Run a read-only query. The marts schema comes first: SELECT * FROM fct_sector_dependency works, "
                    "and SHOW TABLES lists the marts; --tables lists every table and view with its description.",
    )
    sql.add_argument("query", nargs="?", help="the SQL query (or use --file)")
    sql.add_argument("--file", type=Path, help="read the query from this file")
    sql.add_argument("--tables", action="store_true", help="list every table and view: schema, name, description")
    sql.add_argument(
        "--format", choices=("table", "csv", "json"), default="table",
        help="table (default): numbers rounded for reading, the first 200 rows; "
             "csv, json: every row and column, values exact",
    )
    rows = sql.add_mutually_exclusive_group()
    rows.add_argument("--all", action="store_true", help="every row in the table format too")
    rows.add_argument("--limit", type=_positive_int, metavar="N", help="at most N rows (any format)")
    sql.add_argument("--out", type=Path, metavar="FILE", help="write the result to FILE instead of printing it")
    sql.set_defaults(handler=_sql)

    check = commands.add_parser("check", help="run the data-quality suites against the current warehouse")
    check.set_defaults(handler=_check)

    export = commands.add_parser(
        "export", help="check the marts, then write each as Parquet and CSV with a data dictionary (for BI tools)"
    )
    export.add_argument("--format", help="comma-separated formats: parquet, csv (default both)")
    export.add_argument("--dest", type=Path, help="destination folder (default: <data dir>/marts, with --excel <data dir>/marts/excel)")
    export.add_argument(
        "--excel", action="store_true",
        help="CSV files for Excel: UTF-8 with a byte-order mark, codes made of digits written as =\"010221\" so "
             "Excel keeps their leading zeros (implies --format csv unless given)",
    )
    export.set_defaults(handler=_export)
    return parser


def _positive_int(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive whole number, not {text!r}")
    return int(text)


def _overrides(args: argparse.Namespace) -> dict[str, str]:
    """Command-line flags as the environment variables they override; the settings object reads both the same way."""
    flags = {"TRADEDEP_SAMPLE": getattr(args, "sample", False), "TRADEDEP_REFRESH": getattr(args, "refresh", False),
             "TRADEDEP_FORCE": getattr(args, "force", False)}
    overrides = {name: "1" for name, given in flags.items() if given}
    if getattr(args, "years", None):
        overrides["TRADEDEP_YEARS"] = args.years
    if getattr(args, "engine", None):
        overrides["TRADEDEP_ENGINE"] = args.engine
    return overrides


def _build(args: argparse.Namespace, settings: Settings) -> int:
    """One build at a time: a second one, or one finding the build file open elsewhere, exits with EXIT_BUSY.
    Readers of the warehouse do not matter: the build writes its own file and publishes it when it succeeds.
    When nothing the last whole build read has changed and its files are as it left them, the build is reused
    without a run (fingerprints.reusable_build), decided before Dagster is imported."""
    from dagster_project import fingerprints
    from dagster_project.warehouse import WarehouseBusyError, build_lock, connect

    build_file = settings.for_build().warehouse_path
    try:
        with build_lock(build_file):
            reuse = fingerprints.reusable_build(settings, args.select)
            if reuse.record is not None:
                _print_reused(settings, reuse.record)
                return EXIT_OK
            fingerprints.forget_build(settings)  # reusable again only once this run succeeds as a whole
            if build_file.exists():
                with connect(build_file):  # someone holds DuckDB's lock on it (e.g. dbt run by hand)
                    pass
            inputs = fingerprints.build_inputs(settings)
            outcome = _run_build(args, settings)
            if outcome is not None and outcome.success and not args.select:
                fingerprints.record_whole_build(settings, outcome.run_id, inputs)
            return EXIT_OK if outcome is not None and outcome.success else EXIT_FAILED
    except WarehouseBusyError as error:
        print(f"tradedep build: {error}", file=sys.stderr)
        return EXIT_BUSY
    except _Unreachable as error:
        print(error, file=sys.stderr)
        return EXIT_USAGE


class _Unreachable(Exception):
    """BACI is neither landed nor reachable; the message says what to do."""


def _print_reused(settings: Settings, record: dict) -> None:
    from dagster_project.fingerprints import REUSE_MARKER

    print(f"{REUSE_MARKER} run {record['run_id']} finished {record['finished_at']}")
    print(f"Reused: nothing the build reads has changed since run {record['run_id']} ({record['finished_at']}), "
          f"and {settings.warehouse_path} is that build's; nothing was run (`tradedep build --force` runs everything).")
    if settings.sample:
        print("SYNTHETIC SAMPLE: every number in this warehouse is invented, not real trade data.")


def _run_build(args: argparse.Namespace, settings: Settings):
    """The run and its summary; its outcome (pipeline.BuildOutcome), None when it could not even start."""
    started = time.monotonic()
    if not settings.sample:
        problem = _unreachable_source(settings)
        if problem:
            raise _Unreachable(problem)
    prepare_dagster_home(settings)
    dbt_docs.prepare_manifest(settings)
    from dagster_project.pipeline import run_build  # imported late: Dagster and dbt load in seconds

    if args.verbose:
        outcome, log_path = run_build(settings, args.select), None
    else:
        log_path = settings.logs_dir / f"build-{datetime.now(UTC):%Y%m%d-%H%M%S}.log"
        outcome = _run_logged(settings, args.select, log_path)
        if outcome is None:
            print(f"tradedep build: the build could not run; the traceback is in {log_path}", file=sys.stderr)
            return None
    print(outcome.report(time.monotonic() - started, log_path))
    return outcome


def _run_logged(settings: Settings, select: str | None, log_path: Path):
    """Run the build with its output in log_path and one progress line per step on the terminal; None if the
    build could not even start (its traceback is in the log)."""
    import traceback

    from dagster_project.build_output import Progress, output_to_log
    from dagster_project.pipeline import run_build

    with output_to_log(log_path) as terminal:
        progress = Progress(terminal)
        try:
            return run_build(settings, select, progress)
        except Exception:
            traceback.print_exc()  # into the log file
            return None
        finally:
            progress.close()


def _unreachable_source(settings: Settings) -> str | None:
    """One clear message when BACI is neither landed nor reachable (e.g. no network), else None."""
    from dagster_project.sources import baci, landing

    release = baci.Release(settings.hs_revision, settings.baci_release)
    if not settings.refresh and landing.recorded_file(settings.baci_landing_dir / release.zip_name):
        return None
    import httpx

    url = release.url(settings.baci_url)
    try:
        response = httpx.head(url, timeout=15.0, follow_redirects=True)
    except httpx.HTTPError as error:
        return (
            f"tradedep: cannot reach {url} ({type(error).__name__}) and no BACI release is landed in "
            f"{settings.baci_landing_dir}.\nBuild offline from the synthetic sample with `tradedep build --sample`, "
            "or set TRADEDEP_BACI_URL to a mirror you can reach."
        )
    if response.status_code == 404:
        return f"tradedep: {url} does not exist (HTTP 404): check TRADEDEP_BACI_RELEASE and TRADEDEP_HS_REVISION"
    return None


def prepare_dagster_home(settings: Settings) -> None:
    """Dagster's instance folder, with telemetry off (a build sends nothing anywhere) and no sign-up pop-up in the UI."""
    settings.dagster_home.mkdir(parents=True, exist_ok=True)
    config = settings.dagster_home / "dagster.yaml"
    if not config.exists():
        config.write_text("telemetry:\n  enabled: false\nnux:\n  enabled: false\n", encoding="utf-8")


def _ui(args: argparse.Namespace, settings: Settings) -> int:
    """`dagster dev` (webserver and daemon) for these settings; SIGINT or SIGTERM stops it and every process it
    started."""
    prepare_dagster_home(settings)
    dbt_docs.prepare_manifest(settings)
    # From the repository root, `dagster dev` loads the code location pyproject.toml names (tradedep).
    command = [BIN_DIR / "dagster", "dev", "--host", args.host, "--port", str(args.port)]
    # The child builds its own Settings from this environment: the same values as these.
    env = {**os.environ, **settings.process_env(), "PATH": os.pathsep.join([str(BIN_DIR), os.environ.get("PATH", "")])}
    print(f"Dagster UI on http://{args.host}:{args.port} (Ctrl-C stops it)")
    # Its own session: a signal reaches it once, from here, and its whole group can be ended at the last. SIGINT
    # handled as usual there even when this process ignores it (started in the background), as dagster dev stops
    # on SIGINT and SIGTERM alike only then.
    dagster = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, start_new_session=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    stop_asked: list[float] = []

    def forward(number: int, _frame: object) -> None:
        if dagster.poll() is None:
            dagster.send_signal(number)  # dagster dev stops its webserver and daemon
        stop_asked.append(time.monotonic())

    previous = {number: signal.signal(number, forward) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        while dagster.poll() is None and not (stop_asked and time.monotonic() - stop_asked[0] > UI_STOP_SECONDS):
            time.sleep(0.2)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        try:
            os.killpg(dagster.pid, signal.SIGKILL)  # whatever it started and left behind
        except ProcessLookupError:
            pass
        dagster.wait()
    return EXIT_OK if stop_asked else dagster.returncode


def _sql(args: argparse.Namespace, settings: Settings) -> int:
    import duckdb

    from dagster_project import query_output
    from dagster_project.files import atomic_file
    from dagster_project.warehouse import WarehouseBusyError, connect

    try:
        query = args.file.read_text(encoding="utf-8") if args.file else args.query
    except OSError as error:
        print(f"tradedep sql: cannot read the query from {args.file}: {error.strerror}", file=sys.stderr)
        return EXIT_USAGE
    if not query and not args.tables:
        print("tradedep sql: give a query, --file or --tables", file=sys.stderr)
        return EXIT_USAGE
    limit = None if args.all else args.limit or (query_output.TABLE_ROWS if args.format == "table" else None)
    try:
        descriptions = {}
        if args.tables:
            dbt_docs.prepare_manifest(settings)
            descriptions = dbt_docs.relation_descriptions(dbt_docs.load())
        with connect(settings.warehouse_path, read_only=True) as con:
            query_output.marts_first(con)
            relation = query_output.tables(con, descriptions) if args.tables else con.sql(query)
            if relation is None:  # a statement without a result
                return EXIT_OK
            write = functools.partial(query_output.write_result, con, relation, args.format, limit)
            if args.out:
                try:
                    with atomic_file(args.out) as handle:
                        write(handle)
                except OSError as error:
                    print(f"tradedep sql: cannot write {args.out}: {error.strerror}", file=sys.stderr)
                    return EXIT_FAILED
            else:
                write(sys.stdout.buffer)
                sys.stdout.flush()
    except WarehouseBusyError as error:
        print(f"tradedep sql: {error}", file=sys.stderr)
        return EXIT_BUSY
    except (duckdb.Error, FileNotFoundError, dbt_docs.DbtDocsError) as error:
        print(f"tradedep sql: {error}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # e.g. `tradedep sql ... | head`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return EXIT_OK


def _check(args: argparse.Namespace, settings: Settings) -> int:
    from dagster_project.quality import mart_suites, raw_suites

    suites = [*raw_suites.enabled_suites(settings), *mart_suites.enabled_suites(settings)]
    return _run_suites("check", settings, suites, verbose=True)


def _export(args: argparse.Namespace, settings: Settings) -> int:
    from dagster_project import exports
    from dagster_project.quality import mart_suites

    default = "csv" if args.excel else ",".join(exports.FORMATS)
    formats = tuple(part.strip() for part in (args.format or default).split(",") if part.strip())
    folder = settings.exports_dir / "excel" if args.excel else settings.exports_dir
    destination = (args.dest or folder).expanduser().resolve()
    try:
        exports.validate_formats(formats)
    except exports.ExportError as error:
        print(f"tradedep export: {error}", file=sys.stderr)
        return EXIT_USAGE
    checked = _run_suites("export", settings, mart_suites.enabled_suites(settings), verbose=False)
    if checked != EXIT_OK:
        print("tradedep export: nothing exported, because the marts failed their checks", file=sys.stderr)
        return checked
    dbt_docs.prepare_manifest(settings)
    try:
        written = exports.export_marts(settings.warehouse_path, destination, dbt_docs.MANIFEST_PATH, formats, args.excel)
    except exports.ExportError as error:
        print(f"tradedep export: {error}", file=sys.stderr)
        return EXIT_FAILED
    for mart in written:
        print(f"{mart.name:<36} {mart.rows:>10,} rows  " + "  ".join(path.name for path in mart.files))
    kind = " (CSV for Excel)" if args.excel else ""
    print(f"{len(written)} marts exported to {destination}{kind} (data dictionary: {exports.DICTIONARY_NAME}.md, .json)")
    return EXIT_OK


def _run_suites(command: str, settings: Settings, suites: list, verbose: bool) -> int:
    """Run the suites read-only and record them on the results page; the exit code says how it went."""
    from dagster_project.quality import raw_suites
    from dagster_project.quality.checks import run_guarded
    from dagster_project.quality.results_page import record_outcome
    from dagster_project.warehouse import WarehouseBusyError, connect, holds_sample

    try:
        with connect(settings.warehouse_path, read_only=True) as con:
            synthetic = holds_sample(con)
    except WarehouseBusyError as error:
        print(f"tradedep {command}: {error}", file=sys.stderr)
        return EXIT_BUSY
    except FileNotFoundError as error:
        print(f"tradedep {command}: {error}", file=sys.stderr)
        return EXIT_FAILED
    outcomes = [run_guarded(suite.name, lambda suite=suite: raw_suites.validate(settings, suite)) for suite in suites]
    for outcome in outcomes:
        page = record_outcome(settings.quality_dir, outcome, synthetic)
        if verbose or not outcome.success:
            print(("PASSED " if outcome.success else "FAILED ") + outcome.summary())
    passed = sum(outcome.success for outcome in outcomes)
    print(f"{passed} of {len(outcomes)} suites passed; results page: {page}")
    return EXIT_OK if passed == len(outcomes) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
