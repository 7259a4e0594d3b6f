"""The Dagster resources every run shares: dbt, and the build lock of runs that write the warehouse."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource

from dagster_project.settings import BIN_DIR, DBT_PROJECT_DIR, Settings
from dagster_project.warehouse import build_lock

# The key of WarehouseWriteLock: every asset and check that writes the warehouse requires it.
WRITE_LOCK = "warehouse_write_lock"


class WarehouseWriteLock(dg.ConfigurableResource):
    """Held for the whole of a run that writes the warehouse: the lock `tradedep build` takes, so a run
    launched from the UI and a build from the command line never write it at the same time (the second
    fails at once, saying who holds it). Within `tradedep build` the lock is the CLI's own."""

    warehouse: str

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext) -> Iterator["WarehouseWriteLock"]:
        with build_lock(Path(self.warehouse)):
            yield self


def build_resources(settings: Settings) -> dict[str, object]:
    return {
        # dbt gets its profile from the project folder and everything else as --vars (Settings.dbt_vars).
        "dbt": DbtCliResource(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR),
                              dbt_executable=str(BIN_DIR / "dbt")),
        WRITE_LOCK: WarehouseWriteLock(warehouse=str(settings.warehouse_path)),
    }
