"""The one Dagster entry point: `dagster dev` from the repository root loads `defs` from here."""

from __future__ import annotations

import warnings

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.assets.baci import build_baci_assets
from dagster_project.assets.dbt import DBT_PROJECT, build_dbt_assets
from dagster_project.assets.sources import build_source_assets
from dagster_project.quality.checks import build_quality_checks
from dagster_project.settings import BIN_DIR, Settings, load_settings

BUILD_JOB = "build_all"
# Single-run backfills (one run loads every year) are a beta parameter; the warning is noise for users.
warnings.filterwarnings("ignore", category=dg.BetaWarning)


def build_definitions(settings: Settings) -> dg.Definitions:
    settings.export_to_environ()  # dbt, run as a child process, must see the same warehouse path
    DBT_PROJECT.prepare_if_dev()  # parses the dbt project under `dagster dev` only
    dbt_assets_def = build_dbt_assets(settings)
    build_all = dg.define_asset_job(
        BUILD_JOB,
        selection=dg.AssetSelection.all(),
        description="Materialise every asset: land the sources, load raw tables, run dbt, check the marts.",
    )
    return dg.Definitions(
        assets=[*build_baci_assets(settings), *build_source_assets(settings), dbt_assets_def],
        asset_checks=build_quality_checks(settings, dbt_assets_def),
        jobs=[build_all],
        resources={"dbt": DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(BIN_DIR / "dbt"))},
        # DuckDB allows one writer per file: run steps one after another in the run's process.
        executor=dg.in_process_executor,
    )


defs = build_definitions(load_settings())
