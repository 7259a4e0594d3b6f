"""The pure helpers of benchmarks/scale.py (the benchmark itself times things, so no test runs it)."""

import importlib.util
import sys

from dagster_project.settings import PROJECT_ROOT

spec = importlib.util.spec_from_file_location("benchmarks_scale", PROJECT_ROOT / "benchmarks" / "scale.py")
scale = sys.modules["benchmarks_scale"] = importlib.util.module_from_spec(spec)  # dataclasses look their module up
spec.loader.exec_module(scale)


def test_descendants_follow_every_generation_and_nothing_else():
    parents = {1: 0, 10: 1, 11: 10, 12: 10, 13: 12, 20: 1, 30: 99}
    assert scale.descendants(10, parents) == {10, 11, 12, 13}
    assert scale.descendants(13, parents) == {13}


def test_build_steps_are_grouped_by_kind():
    steps = {"raw__baci_trade": 10.0, "tradedep_dbt": 30.0, "raw__baci_trade_gx_raw_baci_trade": 5.0,
             "marts__fct_x_gx_fct_x": 1.5, "landing__baci_release": 2.0}
    assert scale.step_groups(steps) == {"baci_load": 10.0, "dbt": 30.0, "checks": 6.5, "other": 2.0}


def test_year_ranges_end_with_the_release_and_the_median_run_is_kept():
    assert scale.years_ending_last(1) == f"{scale.LAST_YEAR}-{scale.LAST_YEAR}"
    assert scale.years_ending_last(12) == f"{scale.LAST_YEAR - 11}-{scale.LAST_YEAR}"
    runs = [{"seconds": 3.0, "rows": 1}, {"seconds": 1.0, "rows": 2}, {"seconds": 2.0, "rows": 3}]
    assert scale.median_run(runs) == {"seconds": 2.0, "rows": 3, "all_seconds": [3.0, 1.0, 2.0]}


def test_the_load_profile_names_each_statement_by_its_phase():
    assert scale.load_phase("INSERT INTO raw.baci_trade\n  SELECT t FROM read_csv(...)") == (
        "read_csv + checks + insert (one statement)")
    assert scale.load_phase("COMMIT") == "commit"
    assert scale.load_phase("DELETE FROM raw.baci_trade WHERE t = ?") == "delete the year's old rows"
    assert scale.load_phase("DELETE FROM raw.baci_files WHERE member = ?").startswith("other statements")
