"""The Dagster resources every run shares: dbt, and the session of a run that writes the warehouse."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project import publish
from dagster_project.settings import DBT_PROJECT_DIR, Settings
from dagster_project.warehouse import build_lock

# The key of WarehouseWriteSession: every asset and check that writes the warehouse requires it.
WRITE_LOCK = "warehouse_write_session"
# A run with any of these did not succeed: what it wrote is not published.
UNFINISHED = {dg.DagsterEventType.STEP_FAILURE, dg.DagsterEventType.STEP_SKIPPED}


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
        "dbt": DbtCliResource(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR),
                              dbt_executable=str(settings.dbt_executable), target=settings.dbt_target),
        WRITE_LOCK: WarehouseWriteSession(build_file=str(settings.warehouse_path), warehouse=str(settings.publish_to)),
    }
