"""The sample warehouse the pipeline and surface tests share: built once per test session with `tradedep build --sample`,
by whichever pytest-xdist worker asks first (the others wait for it), and never changed by a test. A test that writes
(a rebuild, a tampered mart, a check that records its result) works on a copy (`copy_of`)."""

import fcntl
import io
import json
import os
import shutil
import subprocess
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import duckdb

from dagster_project.settings import BIN_DIR, PROJECT_ROOT, Settings, load_settings

# Six years: the persistence window (3 years) completes inside it, and the trend's baseline (2013-2015 by default,
# outside this build) falls back to the build's first years, so both windows hold three years of their own.
YEARS = tuple(range(2018, 2024))
MART = "marts.fct_sector_dependency"


@dataclass(frozen=True)
class Built:
    env: dict[str, str]
    settings: Settings
    first_run: subprocess.CompletedProcess


def tradedep(env, *args, timeout=600):
    return subprocess.run([BIN_DIR / "tradedep", *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=PROJECT_ROOT)


def tradedep_here(env, *args) -> subprocess.CompletedProcess:
    """`tradedep` run in this process, for a test that needs a command's exit code and output but not a process of
    its own: it saves a new Python's seconds of importing Dagster and Great Expectations."""
    from dagster_project import cli

    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = cli.main(list(args), env=env)
    return subprocess.CompletedProcess(["tradedep", *args], code, out.getvalue(), err.getvalue())


def sample_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_") and k != "DAGSTER_HOME"}
    env.update({"TRADEDEP_DATA_DIR": str(data_dir), "TRADEDEP_YEARS": f"{YEARS[0]}-{YEARS[-1]}"})
    return env


def built_at(data_dir: Path, run: subprocess.CompletedProcess) -> Built:
    env = sample_env(data_dir)
    return Built(env=env, settings=load_settings({**env, "TRADEDEP_SAMPLE": "1"}), first_run=run)


def shared_build(root: Path) -> Built:
    """The session's sample build under root (shared by the workers), made by the first worker to ask."""
    data_dir, record = root / "shared_sample" / "data", root / "shared_sample" / "first_run.json"
    with _locked(root / "shared_sample.lock"):
        if not record.exists():
            result = tradedep(sample_env(data_dir), "build", "--sample")
            record.write_text(json.dumps({"args": result.args, "returncode": result.returncode,
                                          "stdout": result.stdout, "stderr": result.stderr}, default=str))
        run = subprocess.CompletedProcess(**json.loads(record.read_text()))
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return built_at(data_dir, run)


def copy_of(built: Built, target: Path) -> Built:
    """A copy of the built data folder (warehouse, landing zone, Dagster history), for a test that writes."""
    shutil.copytree(built.settings.data_dir, target)
    return built_at(target, built.first_run)


@contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def query(settings, sql, params=None):
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as con:
        return con.sql(sql, params=params or None).pl()


def sector_baskets(settings) -> set[tuple[str, str]]:
    return set(query(settings, "SELECT DISTINCT sector, basket FROM intermediate.int_sector_basket_products").iter_rows())


def instance_of(settings):
    """The Dagster instance (run history) of a build's data folder, opened without touching the environment."""
    import dagster as dg  # imported here: only the tests that read run history need Dagster

    return dg.DagsterInstance.from_config(str(settings.dagster_home))


def last_run(settings) -> tuple:
    """The latest run of a build's history (a DagsterRun), with its materialisations and check evaluations."""
    import dagster as dg

    with instance_of(settings) as instance:
        run = instance.get_runs(limit=1)[0]
        records = instance.all_logs(run.run_id)
    events = [record.dagster_event for record in records if record.dagster_event is not None]
    materialisations = [event.event_specific_data.materialization for event in events
                        if event.event_type == dg.DagsterEventType.ASSET_MATERIALIZATION]
    evaluations = [event.event_specific_data for event in events
                   if event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION]
    return run, materialisations, evaluations
