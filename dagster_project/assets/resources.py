"""The Dagster resources every run shares: dbt, and the session of a run that writes the warehouse."""

import importlib.metadata
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from dagster_project import publish
from dagster_project.settings import DBT_PROJECT_DIR, Settings
from dagster_project.warehouse import build_lock

# The key of WarehouseWriteSession: every asset and check that writes the warehouse requires it.
WRITE_LOCK = "warehouse_write_session"
# A run with any of these did not succeed: what it wrote is not published.
UNFINISHED = {dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SKIPPED}


class DbtCli(DbtCliResource):
    """dagster-dbt's dbt resource without two costs of each dbt call that this project does not use (5 s a build, a
    tenth of the sample's): running `dbt --version` to tell dbt Core from the Fusion engine (dbt Core 1.x is pinned,
    requirements.lock), and loading a dbt adapter with every macro into this process for fetch_row_counts and
    fetch_column_metadata, which assets/table_metadata.py replaces. Both methods are dagster-dbt 0.29's private API:
    tests/test_settings.py fails when an upgrade moves them."""

    @cached_property
    def _cli_version(self) -> version.Version:
        return version.parse(importlib.metadata.version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args) -> None:
        return None  # no adapter: dagster-dbt then fetches no metadata through it


class WarehouseWriteSession(dg.ConfigurableResource):
    """Held for the whole of a run that writes the warehouse.

    It takes the build lock `tradedep build` takes, so a run launched from the UI and a build from the command line
    never write at the same time (the second fails at once, saying who holds it; within `tradedep build` the lock is
    the CLI's own). The run writes the build file; when it ends with no failed or skipped step, the build file is
    published over the warehouse that readers use (dagster_project/publish.py)."""

    build_file: str
    warehouse: str

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseWriteSession"]:
        build, warehouse = Path(self.build_file), Path(self.warehouse)
        with build_lock(build):
            publish.seed_build_file(build, warehouse)
            yield self  # the run's steps execute here
            records = context.instance.get_records_for_run(context.run.run_id, of_type=UNFINISHED).records
            if not records:
                published = publish.publish(build, warehouse)
                context.log.info(f"Published {build} as {warehouse}" if published else f"{warehouse} is up to date")
            else:
                context.log.warning(f"Not published: {len(records)} steps failed or were skipped; readers keep "
                                    f"{warehouse} as it was, the next build continues from {build}")


def build_resources(settings: Settings) -> dict[str, object]:
    """Resources for build settings (Settings.for_build)."""
    return {
        # dbt gets its profile from the project folder and everything else as --vars (Settings.dbt_vars).
        # The target is the engine's (dbt/profiles.yml), and so is the dbt executable (Spark's has its own environment).
        "dbt": DbtCli(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR),
                      dbt_executable=str(settings.dbt_executable), target=settings.dbt_target),
        WRITE_LOCK: WarehouseWriteSession(build_file=str(settings.warehouse_path), warehouse=str(settings.publish_to)),
    }
