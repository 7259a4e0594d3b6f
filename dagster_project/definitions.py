"""The one Dagster entry point: `tradedep ui` (or `dagster dev` from the repository root) loads `defs` from here."""

from __future__ import annotations

import logging
import warnings
from functools import cache

import dagster as dg

from dagster_project import dbt_docs
from dagster_project.assets.baci import build_baci_assets
from dagster_project.assets.dbt import build_dbt_assets
from dagster_project.assets.outputs import build_output_assets
from dagster_project.assets.resources import build_resources
from dagster_project.assets.sources import build_source_assets
from dagster_project.quality.checks import build_quality_checks
from dagster_project.settings import Settings, load_settings

BUILD_JOB = "build_all"
# The code location's name (pyproject.toml's [tool.dagster] code_location_name): runs of `tradedep build` are
# created with it as their origin, so the UI shows them beside the runs launched from it.
CODE_LOCATION = "tradedep"
# One run covers every configured year: the yearly assets load their partitions in sequence.
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
LANDING_OPS = ("landing__baci_release", "landing__comtrade", "landing__oecd_tiva", "landing__worldbank")
# Single-run backfills (one run loads every year) are a beta parameter; the warning is noise for users.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


class _SingularTestNotice(logging.Filter):
    """dagster-dbt warns on every build that the singular test assert_sector_prefixes_exist_in_products (it reads
    two tables) is logged as an observation, not an asset check. It is noise: dbt runs the test and a failure
    still fails the dbt step."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "instead of an `AssetCheckResult` for dbt test" not in record.getMessage()


logging.getLogger("dagster.builtin").addFilter(_SingularTestNotice())


@dg.definitions
def defs() -> dg.Definitions:
    """What the webserver and its run workers load: the settings from their environment (`tradedep ui` passes its
    own), with the dbt manifest parsed first if the project changed."""
    settings = load_settings()
    dbt_docs.prepare_manifest(settings)
    return build_definitions(settings)


@cache
def build_definitions(settings: Settings) -> dg.Definitions:
    """Every asset, check, job and schedule for these settings; built once per process and settings. The runs write
    the build file and publish it over the warehouse when they succeed (Settings.for_build)."""
    settings = settings.for_build()
    dbt_assets_def = build_dbt_assets(settings)
    jobs = build_jobs()
    return dg.Definitions(
        assets=[*build_baci_assets(settings), *build_source_assets(settings), dbt_assets_def,
                *build_output_assets(settings, dbt_assets_def)],
        asset_checks=build_quality_checks(settings, dbt_assets_def),
        jobs=jobs,
        schedules=[build_monthly_refresh(settings, jobs[0])],
        resources=build_resources(settings),
        # DuckDB allows one writer per file: run steps one after another in the run's process.
        executor=dg.in_process_executor,
    )


def build_jobs() -> list[dg.UnresolvedAssetJobDefinition]:
    """The job per common task; build_all first."""
    dbt_layers = dg.AssetSelection.groups("seeds", "staging", "intermediate", "marts")
    return [
        dg.define_asset_job(BUILD_JOB, selection=dg.AssetSelection.all(), description=(
            "Materialise every asset: land the sources, load raw tables, run dbt, check, export, report.")),
        dg.define_asset_job("refresh_sources", selection=dg.AssetSelection.groups("raw"), description=(
            "Land every source (downloading only what is missing, or everything with the landing ops' "
            "config refresh: true) and reload the raw tables, with their checks.")),
        dg.define_asset_job("rebuild_marts", selection=dbt_layers, description=(
            "Run dbt (seeds, staging, intermediate, marts) on the raw tables as they are, with the mart checks. "
            "dbt is not run when nothing it reads changed since it last succeeded; the tradedep_dbt op's config "
            "force: true runs it anyway.")),
        dg.define_asset_job("export", selection=dg.AssetSelection.groups("exports", "report", "quality"), description=(
            "Write the Parquet/CSV exports, the data dictionary, the HTML report and the quality page from the current marts.")),
    ]


def build_monthly_refresh(settings: Settings, build_all: dg.UnresolvedAssetJobDefinition) -> dg.ScheduleDefinition:
    """On the 2nd of each month: fetch every source again and rebuild everything. Off until switched on."""

    @dg.schedule(job=build_all, cron_schedule="0 3 2 * *", execution_timezone="UTC",
                 default_status=dg.DefaultScheduleStatus.STOPPED,
                 description="Monthly refresh: download every source again, then rebuild, check and export everything.")
    def monthly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
        return dg.RunRequest(
            run_config={"ops": {op: {"config": {"refresh": True}} for op in landing_ops(settings)}},
            tags=partition_range_tags(settings),
        )

    return monthly_refresh


def landing_ops(settings: Settings) -> list[str]:
    return [op for op in LANDING_OPS if op == "landing__baci_release" or op.removeprefix("landing__") in settings.sources]


def partition_range_tags(settings: Settings) -> dict[str, str]:
    """Tags that make one run cover every configured year of the yearly assets."""
    return {RANGE_START_TAG: str(settings.years[0]), RANGE_END_TAG: str(settings.years[-1])}


def run_tags(settings: Settings, job: dg.JobDefinition) -> dict[str, str]:
    """The tags of a run of the job started outside the UI: the years it covers when it has the yearly assets."""
    return partition_range_tags(settings) if job.partitions_def is not None else {}
