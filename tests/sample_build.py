"""The sample warehouse the pipeline and surface tests share: built once per test worker with `tradedep build --sample`."""

import os
import subprocess
from dataclasses import dataclass

import duckdb

from dagster_project.settings import BIN_DIR, PROJECT_ROOT, Settings, load_settings

# Six years: the persistence window (3 years) completes inside it, and the trend's baseline (2013-2015 by default,
# outside this build) falls back to the build's first years, so both windows hold three years of their own.
YEARS = tuple(range(2018, 2024))


@dataclass
class Built:
    env: dict[str, str]
    settings: Settings
    first_run: subprocess.CompletedProcess


def tradedep(env, *args, timeout=600):
    return subprocess.run([BIN_DIR / "tradedep", *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT)


def build_sample(data_dir) -> Built:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_") and k != "DAGSTER_HOME"}
    env.update({"TRADEDEP_DATA_DIR": str(data_dir), "TRADEDEP_YEARS": f"{YEARS[0]}-{YEARS[-1]}"})
    result = tradedep(env, "build", "--sample")
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    return Built(env=env, settings=load_settings({**env, "TRADEDEP_SAMPLE": "1"}), first_run=result)


def query(settings, sql, params=None):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(sql, params=params or None).pl()
