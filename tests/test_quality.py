"""The fct_sector_dependency suite passes on good data and names each expectation that bad data breaks."""

import re
from datetime import date

import pandas as pd
import pytest

from conftest import validate_frame
from dagster_project.quality import mart_suites, raw_suites, suites

YEARS = (2019, 2020)
SECTOR_BASKETS = [("Rail", "full"), ("Semiconductors and IT", "comparable"), ("Semiconductors and IT", "full")]
GROUPS = ["EU27", "US", "World"]
# A plausible value for every documented column of the mart (the suite checks the set of columns).
DEFAULTS = {
    "hs_revision": "HS12", "imports_from_world_usd": 100.0, "exports_to_world_usd": 50.0, "net_import_ratio": 2.0,
    "has_no_exports": False, "normalised_trade_balance": -1 / 3, "supplier_hhi": 0.4, "basket_product_count": 3,
    "screened_dependent_product_count": 1, "window_years_observed": 3, "dependent_product_count": 1,
    "dependent_import_share": 0.25, "chokepoint_product_count": 0, "chokepoint_import_share": 0.0,
    "imports_tonnes": 10.0, "import_unit_value_usd_per_tonne": 10.0, "exports_tonnes": 5.0,
    "export_unit_value_usd_per_tonne": 10.0, "industry_isic_activities": "C26", "industry_import_penetration": 0.3,
    "is_synthetic": True, "data_source": "SYNTHETIC SAMPLE", "valuation": "FOB, reconciled (BACI)",
}


def good_frame() -> pd.DataFrame:
    rows = []
    for sector, basket in SECTOR_BASKETS:
        for group in GROUPS:
            for year in YEARS:
                share = {"US": 0.2, "EU27": 0.3, "World": 1.0}[group]
                row = {**DEFAULTS, "sector": sector, "basket": basket, "partner_group": group, "year": year,
                       "year_start": date(year, 1, 1), "imports_from_partner_usd": 100.0 * share,
                       "partner_import_share": share}
                rows.append({column: row[column] for column in suites.documented_columns("fct_sector_dependency")})
    return pd.DataFrame(rows)


def as_recorded(row: pd.Series) -> dict:
    """A frame row as offending rows are recorded: dates in ISO form."""
    return {**row.to_dict(), "year_start": row["year_start"].isoformat()}


_scratch: list = []  # the running test's folder, where its frames are validated as DuckDB files


@pytest.fixture(autouse=True)
def _scratch_folder(tmp_path):
    _scratch[:] = [tmp_path]


def run_suite(name, frame, expectations):
    return validate_frame(name, frame, expectations, _scratch[0])


def validate(frame):
    return run_suite("fct_sector_dependency", frame, suites.fct_sector_dependency(YEARS, SECTOR_BASKETS, GROUPS))


def test_good_data_passes():
    outcome = validate(good_frame())
    assert outcome.success, outcome.summary()
    assert len(outcome.outcomes) >= 15


def _set(column, value, row=0):
    def change(frame):
        frame.loc[row, column] = value
        return frame
    return change


KEY = ["sector", "basket", "partner_group", "year"]


def _duplicate_key(frame):
    frame.loc[1, KEY] = frame.loc[0, KEY].to_list()
    return frame


@pytest.mark.parametrize(
    ("breakage", "expectation", "column"),
    [
        (_set("partner_import_share", 1.5), "expect_column_values_to_be_between", "partner_import_share"),
        (_set("supplier_hhi", -0.1), "expect_column_values_to_be_between", "supplier_hhi"),
        (_set("imports_from_partner_usd", -5.0), "expect_column_values_to_be_between", "imports_from_partner_usd"),
        (_set("imports_from_world_usd", -1.0), "expect_column_values_to_be_between", "imports_from_world_usd"),
        (_set("exports_to_world_usd", -1.0), "expect_column_values_to_be_between", "exports_to_world_usd"),
        (_set("net_import_ratio", -1.0), "expect_column_values_to_be_between", "net_import_ratio"),
        (_set("sector", None), "expect_column_values_to_not_be_null", "sector"),
        (_set("partner_group", None), "expect_column_values_to_not_be_null", "partner_group"),
        (_set("year", 2031), "expect_column_values_to_be_between", "year"),
        (_set("year", 2031), "expect_column_distinct_values_to_equal_set", "year"),
        (_set("sector", "Unknown"), "expect_column_distinct_values_to_equal_set", "sector"),
        (_set("partner_group", "Mars"), "expect_column_distinct_values_to_equal_set", "partner_group"),
        (_set("data_source", None), "expect_column_values_to_not_be_null", "data_source"),
        (_set("basket", None), "expect_column_values_to_not_be_null", "basket"),
        (_set("basket", "everything"), "expect_column_values_to_be_in_set", "basket"),
        (_set("industry_import_penetration", -0.1), "expect_column_values_to_be_between", "industry_import_penetration"),
        (_duplicate_key, "expect_compound_columns_to_be_unique", "sector,basket,partner_group,year"),
        (lambda frame: frame.iloc[1:], "expect_table_row_count_to_equal", None),
        (lambda frame: frame.drop(columns=["supplier_hhi"]), "expect_table_columns_to_match_set", None),
    ],
)
def test_each_broken_invariant_fails_with_its_expectation_named(breakage, expectation, column):
    outcome = validate(breakage(good_frame()))
    assert not outcome.success
    failed = {(failure.expectation, failure.column) for failure in outcome.failures}
    assert (expectation, column) in failed, outcome.summary()
    assert expectation in outcome.summary()


def test_failures_carry_counts_and_sample_rows():
    frame = good_frame()
    frame.loc[[0, 3], "partner_import_share"] = 1.7
    failure = next(f for f in validate(frame).failures if f.column == "partner_import_share")
    assert failure.unexpected_count == 2 and failure.sample == [1.7, 1.7]
    assert sorted(failure.rows, key=str) == sorted([as_recorded(frame.loc[0]), as_recorded(frame.loc[3])], key=str)  # whole rows


def test_check_metadata_shows_the_offending_rows_of_each_failed_expectation(tmp_path):
    from dagster_project.quality.checks import check_result

    frame = _duplicate_key(good_frame())
    frame.loc[5, "imports_from_world_usd"] = -42.5
    result = check_result(validate(frame), tmp_path, synthetic=False)
    failures = {(f["expectation"], f["column"]): f["rows"] for f in result.metadata["failures"].value}
    duplicated = failures["expect_compound_columns_to_be_unique", "sector,basket,partner_group,year"]
    assert duplicated == [{"sector": "Rail", "basket": "full", "partner_group": "EU27", "year": 2019, "copies": 2}]
    [negative] = failures["expect_column_values_to_be_between", "imports_from_world_usd"]
    assert negative == {**as_recorded(good_frame().loc[5]), "imports_from_world_usd": -42.5}
    markdown = result.metadata["sample_offending_rows"].value
    assert "**expect_column_values_to_be_between** on `imports_from_world_usd`: 1 unexpected" in markdown
    assert "| sector | basket | partner_group | year |" in markdown
    assert "| Rail | full | World | 2020 | 2020-01-01 | HS12 | 100.0 | -42.5 |" in markdown
    page = (tmp_path / "index.html").read_text()
    assert "<td>-42.5</td>" in page and "<th>imports_from_world_usd</th>" in page


def test_a_suite_on_a_missing_warehouse_does_not_pass(settings):
    with pytest.raises(FileNotFoundError, match="No warehouse"):
        raw_suites.validate(settings, mart_suites.SECTOR_DEPENDENCY)


def test_an_empty_suite_is_not_a_pass():
    outcome = run_suite("empty", good_frame(), [])
    assert not outcome.success


def test_results_are_kept_on_a_static_page(tmp_path):
    from dagster_project.quality.results_page import record_outcome

    frame = good_frame()
    frame.loc[0, "partner_import_share"] = 1.7
    record_outcome(tmp_path, validate(good_frame()), synthetic=False)
    page = record_outcome(tmp_path, run_suite("other_suite", frame, suites.fct_sector_dependency(YEARS, SECTOR_BASKETS, GROUPS)),
                          synthetic=False)
    text = page.read_text()
    assert page == tmp_path / "index.html" and "2 suites" in text and "1 suites failing" in text
    assert "expect_column_values_to_be_between" in text and "partner_import_share" in text and "1.7" in text
    assert "http" not in text.replace("http-equiv", "")  # self-contained: nothing to fetch
    assert 'class="synthetic"' not in text and "SYNTHETIC SAMPLE -" not in text


def test_the_page_says_synthetic_sums_up_orders_by_data_flow_and_states_each_bound(tmp_path):
    from dagster_project.quality.results_page import record_outcome

    broken = good_frame()
    broken.loc[0, "partner_import_share"] = 1.7
    checks = suites.fct_sector_dependency(YEARS, SECTOR_BASKETS, GROUPS)
    record_outcome(tmp_path, run_suite("fct_sector_dependency", broken, checks), synthetic=True)
    record_outcome(tmp_path, run_suite("raw_comtrade_flows", good_frame(), checks[:3]), synthetic=True)
    text = record_outcome(tmp_path, run_suite("raw_baci_trade", good_frame(), checks[:2]), synthetic=False).read_text()
    assert "SYNTHETIC SAMPLE" in text.split("<h1>")[0] and "(2 of 3 suites)" in text
    summary = text.split('<table class="summary">')[1].split("</table>")[0]
    suites_in_order = re.findall(r"<tr><td><a href='#(\w+)'>", summary)
    assert suites_in_order == ["raw_baci_trade", "raw_comtrade_flows", "fct_sector_dependency"]  # raw first, then marts
    assert "<td>marts.fct_sector_dependency</td><td class='fail'>FAILED</td>" in summary
    assert text.index("<h2>Raw tables</h2>") < text.index('id="raw_baci_trade"') < text.index("<h2>Marts</h2>")
    assert f"3 suites, {len(checks) + 5} expectations" in text and "1 failed expectations" in text
    assert "<td>partner_import_share</td><td>0 &lt;= value &lt;= 1.000000001</td>" in text
    assert "<td>unique over (sector, basket, partner_group, year)</td>" in text
    assert "<td>distinct values exactly {2019, 2020}</td>" in text and "<td>row count = 18</td>" in text
