"""How much the Great Expectations checks add to a sample build, measured on one real run.

    .venv/bin/python benchmarks/check_overhead.py [--years 2012-2023]

Builds the sample into a temporary data directory with `tradedep build --sample`, then reads the run's
step timings from the Dagster instance and compares the GX check steps with the whole run (the baseline
is the same run without them). Prints a Markdown table.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dagster as dg

BIN_DIR = Path(sys.executable).parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--years", default="2012-2023")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TRADEDEP_") and k != "DAGSTER_HOME"}
        env.update({"TRADEDEP_DATA_DIR": folder, "TRADEDEP_YEARS": args.years})
        started = time.monotonic()
        result = subprocess.run([BIN_DIR / "tradedep", "build", "--sample"], env=env, capture_output=True, text=True)
        wall = time.monotonic() - started
        if result.returncode != 0:
            sys.exit(result.stdout[-2000:] + result.stderr[-2000:])
        run_id = re.search(r"\(run ([0-9a-f-]+),", result.stdout).group(1)
        os.environ["DAGSTER_HOME"] = str(Path(folder) / "dagster_home")
        with dg.DagsterInstance.get() as instance:
            steps = instance.get_run_step_stats(run_id)
    durations = {step.step_key: step.end_time - step.start_time for step in steps if step.end_time and step.start_time}
    checks = sum(seconds for key, seconds in durations.items() if "_gx_" in key)
    run = sum(durations.values())
    print("| measure | seconds |\n|---|---|")
    print(f"| `tradedep build --sample` wall time ({args.years}) | {wall:.1f} |")
    print(f"| all steps of the run | {run:.1f} |")
    print(f"| GX check steps ({sum('_gx_' in key for key in durations)}) | {checks:.1f} |")
    print(f"| checks' share of the wall time | {checks / wall:.1%} |")
    print(f"| run without the checks (baseline) | {wall - checks:.1f} |")
    print(f"| checks added to the baseline | {checks / (wall - checks):.1%} |")


if __name__ == "__main__":
    main()
