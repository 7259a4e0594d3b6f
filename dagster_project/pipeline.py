"""Run the build job (or a selection) in one Dagster run and summarise what happened."""

from __future__ import annotations

import ast
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import duckdb

# Not public API (dagster is pinned): a run created with the origin the UI gives its own runs, executed here.
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.api import execute_run
from dagster._core.execution.execution_result import ExecutionResult
from dagster._core.remote_origin import ManagedGrpcPythonEnvCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin

from dagster_project.build_output import Progress
from dagster_project.definitions import BUILD_JOB, CODE_LOCATION, build_definitions, run_tags
from dagster_project.settings import PROJECT_ROOT, SOURCES, Settings
from dagster_project.warehouse import connect

FAILURE_LINES = 3  # of each failure's message in the summary; the log file has all of it
STEP_ENDS = {dg.DagsterEventType.STEP_SUCCESS: "ok", dg.DagsterEventType.STEP_FAILURE: "FAILED",
             dg.DagsterEventType.STEP_SKIPPED: "skipped"}


@dataclass
class BuildOutcome:
    success: bool
    run_id: str
    settings: Settings
    materialized: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # dbt assets not rebuilt: nothing they read had changed
    checks: int = 0
    reused_checks: int = 0  # checks evaluated before on the same data, so not run again
    failed_sources: dict[str, str] = field(default_factory=dict)  # optional source -> why its step failed
    coverage: str | None = None  # which years (and months) the marts take from which source


    def report(self, seconds: float, log_path: Path | None = None) -> str:
        rebuilt = len(self.materialized) - len(self.unchanged)
        reused = f", {len(self.unchanged)} reused unchanged" if self.unchanged else ""
        lines = [
            f"{'Built' if self.success else 'FAILED'}: {rebuilt} assets materialised{reused} in {seconds:.0f} s "
            f"(run {self.run_id}, years {self.settings.years[0]}-{self.settings.years[-1]}, {self.settings.hs_revision})",
            f"Warehouse: {self.settings.warehouse_path}" + ("" if self.success else
                " is as it was (not published: what this build wrote is in "
                f"{self.settings.for_build().warehouse_path.name}, where the next build continues)"),
        ]
        if self.coverage:
            lines.append(self.coverage)
        if self.unchanged:
            lines.append(f"Unchanged: dbt was not run, nothing it reads had changed ({len(self.unchanged)} models "
                         "and seeds are as the last build left them; --force runs it)")
        if self.reused_checks:
            lines.append(f"Unchanged: {self.reused_checks} of {self.checks} checks had been evaluated on exactly "
                         "this data before, so were not run again (--force runs them)")
        if self.settings.sample:
            lines.append("SYNTHETIC SAMPLE: every number in this warehouse is invented, not real trade data.")
        lines += [f"  - {_first_lines(failure)}" for failure in self.failures]
        if self.failed_sources:
            kept = ",".join(source for source in self.settings.sources if source not in self.failed_sources)
            lines.append(f"Way out: build without {', '.join(self.failed_sources)} for now: "
                         f"TRADEDEP_SOURCES={kept} tradedep build")
        if log_path is not None:
            lines.append(f"Full log (Dagster and dbt output, tracebacks): {log_path}")
        return "\n".join(lines)


def _first_lines(text: str) -> str:
    lines = text.splitlines()
    more = " (more in the log)" if len(lines) > FAILURE_LINES else ""
    return "\n    ".join(lines[:FAILURE_LINES]) + more


def run_build(settings: Settings, select: str | None = None, progress: Progress | None = None) -> BuildOutcome:
    """Materialise every asset (or the selection) in one in-process run against the persistent instance;
    `progress` is told of each step as it ends."""
    job = build_definitions(settings).resolve_job_def(BUILD_JOB)
    # A selection runs as a subset of build_all, listed under that job in the UI.
    selected = sorted(dg.AssetSelection.from_string(select).resolve(job.asset_layer.asset_graph)) if select else None
    loggers: dict = {"console": {"config": {"log_level": "INFO"}}}
    if progress is not None:
        job = job.with_logger_defs({**dg.default_loggers(), "progress": progress_logger(progress)})
        loggers["progress"] = {}
    with dg.DagsterInstance.from_config(str(settings.dagster_home)) as instance:
        run = instance.create_run_for_job(
            job_def=job, run_config={"loggers": loggers}, tags={**job.run_tags, **run_tags(settings, job)},
            asset_selection=set(selected) if selected else None, remote_job_origin=ui_origin(job.name),
        )
        result = execute_run(InMemoryJob(job), run, instance)
    materialisations = result.get_asset_materialization_events()
    evaluations = result.get_asset_check_evaluations()
    return BuildOutcome(
        success=result.success,
        run_id=result.run_id,
        settings=settings,
        materialized=sorted({event.asset_key.to_user_string() for event in materialisations}),
        failures=_failures(result),
        failed_sources=_failed_sources(result, settings),
        unchanged=sorted(event.asset_key.to_user_string() for event in materialisations
                         if _metadata_value(event.materialization.metadata, "rebuilt") is False),
        checks=len(evaluations),
        reused_checks=sum(_metadata_value(evaluation.metadata, "validated_again") is False for evaluation in evaluations),
        coverage=source_coverage(settings.for_build().warehouse_path),
    )


def ui_origin(job_name: str) -> RemoteJobOrigin:
    """Where the UI says a run comes from: the job in the code location `tradedep ui` serves. A run created with it
    is listed under its job, on the Overview timeline and on each asset, as the runs launched from the UI are."""
    target = LoadableTargetOrigin(executable_path=sys.executable, module_name="dagster_project.definitions",
                                  working_directory=str(PROJECT_ROOT))
    location = ManagedGrpcPythonEnvCodeLocationOrigin(loadable_target_origin=target, location_name=CODE_LOCATION)
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), job_name)


def source_coverage(warehouse: Path) -> str | None:
    """One line saying which years (and months) the marts take from which source, from marts.dim_data_source;
    None when the marts are not built."""
    try:
        with connect(warehouse, read_only=True) as con:
            rows = con.execute("SELECT source, mart_first_year, mart_last_year, overlap_year, first_month, last_month "
                               "FROM marts.dim_data_source WHERE mart_year_count > 0 OR last_month IS NOT NULL "
                               "ORDER BY mart_first_year").fetchall()
    except (FileNotFoundError, duckdb.CatalogException):  # no warehouse or no marts yet (a failed or partial build)
        return None
    parts = []
    for source, first, last, overlap, first_month, last_month in rows:
        name = "BACI" if source == "baci" else "UN Comtrade (China-reported)"
        if first is not None:
            parts.append(f"{name} {first}-{last}" if first != last else f"{name} {first}")
        if overlap is not None:
            parts.append(f"overlap year {overlap} in both (marts.fct_source_overlap)")
        if last_month is not None:
            parts.append(f"provisional months {first_month:%Y-%m} to {last_month:%Y-%m} "
                         "(marts.fct_sector_trailing_twelve_months)")
    return "Years: " + "; ".join(parts) if parts else None


def _metadata_value(metadata: dict, name: str) -> object:
    entry = metadata.get(name)
    return getattr(entry, "value", entry)


def _failures(result: ExecutionResult) -> list[str]:
    """Readable reasons: failed checks with their descriptions, then failed steps with their errors."""
    reasons = [
        f"check {evaluation.check_name} on {evaluation.asset_key.to_user_string()} failed: {evaluation.description}"
        for evaluation in result.get_asset_check_evaluations()
        if not evaluation.passed
    ]
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            error = event.step_failure_data.error
            # The cause is the user-facing error; the outer message only says that the step failed.
            reasons.append(f"step {event.step_key} failed: {(error.cause or error).message.strip()}")
        elif event.is_run_failure and getattr(event.event_specific_data, "error", None):
            error = event.event_specific_data.error  # e.g. a resource could not start: the build lock is taken
            reasons.append(f"run failed: {(error.cause or error).message.strip()}")
    return reasons


def _failed_sources(result: ExecutionResult, settings: Settings) -> dict[str, str]:
    """The optional sources (not BACI) whose landing or raw step failed, with the cause: those a build can do
    without for now (TRADEDEP_SOURCES)."""
    failed = {}
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error:
            source = _source_of(event.step_key)
            if source in settings.sources and source != "baci":
                error = event.step_failure_data.error
                failed.setdefault(source, (error.cause or error).message.strip())
    return failed


def _source_of(step_key: str) -> str | None:
    """The source a landing or raw step belongs to: landing__comtrade, raw__comtrade_flows -> comtrade."""
    layer, _, name = step_key.partition("__")
    if layer not in ("landing", "raw"):
        return None
    return next((source for source in SOURCES if name.startswith(source)), None)


def progress_logger(progress: Progress) -> dg.LoggerDefinition:
    """A Dagster logger that reports each step's end (and the number of steps) to `progress`."""

    def make(_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger("tradedep.progress", logging.DEBUG)
        logger.addHandler(_StepEvents(progress))
        return logger

    return dg.LoggerDefinition(make, description="one progress line per step (tradedep build)")


class _StepEvents(logging.Handler):
    def __init__(self, progress: Progress) -> None:
        super().__init__(logging.DEBUG)
        self.progress = progress
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None:
            return
        if event.event_type == dg.DagsterEventType.STEP_START:
            self.started[event.step_key] = record.created
            self.progress.started(_label(event.step_key))
        elif event.event_type in STEP_ENDS:
            started = self.started.get(event.step_key)
            self.progress.finished(_label(event.step_key), STEP_ENDS[event.event_type],
                                   None if started is None else record.created - started)
        elif event.event_type == dg.DagsterEventType.ENGINE_EVENT and self.progress.total is None:
            # The in-process executor's first event lists the steps it will run (as text).
            steps = getattr(event.event_specific_data, "metadata", {}).get("step_keys")
            if steps is not None:
                self.progress.planned(len(ast.literal_eval(steps.text)))


def _label(step_key: str) -> str:
    """raw__baci_trade -> raw/baci_trade; a check's step raw__baci_trade_gx_raw_baci_trade -> raw/baci_trade check gx_..."""
    return step_key.replace("__", "/").replace("_gx_", " check gx_", 1)
