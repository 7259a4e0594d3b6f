"""Each raw table's suite passes on good rows and names every expectation that bad rows break: validated with SQL
in DuckDB, the rows broken in a table of a copy of the warehouse."""

import duckdb
import pandas as pd
import pytest

from dagster_project import raw_tables
from dagster_project.hs_codes import hs6_codes
from dagster_project.quality import raw_suites
from conftest import validate_frame
from dagster_project.settings import load_settings
from dagster_project.warehouse import connect

YEARS = (2019, 2020)
COUNTRIES = [(156, "China", "CN", "CHN"), (842, "USA", "US", "USA"), (276, "Germany", "DE", "DEU"),
             (384, "Côte d'Ivoire", "CI", "CIV"), *((code, f"Country {code}", "", f"C{code:02d}") for code in range(1, 30))]
SUITES = {suite.name: suite for suite in raw_suites.RAW_SUITES}


@pytest.fixture(scope="module")
def settings(tmp_path_factory):
    folder = tmp_path_factory.mktemp("suites")
    settings = load_settings({"TRADEDEP_DATA_DIR": str(folder), "TRADEDEP_YEARS": "2019-2020",
                              "TRADEDEP_COMTRADE_YEARS": "2023-2024", "TRADEDEP_COMTRADE_MONTHS": "2024-12..2025-01"})
    products = hs6_codes("HS12")
    trade = pd.DataFrame(
        [(year, COUNTRIES[n % 30][0], COUNTRIES[(n + 1) % 30][0], products[n], 1.5 + n, None if n % 50 else 2.0)
         for year in YEARS for n in range(1200)],
        columns=["t", "i", "j", "k", "v", "q"],
    )
    with connect(settings.warehouse_path) as con:
        raw_tables.create_all(con)
        con.executemany("INSERT INTO raw.baci_countries VALUES (?, ?, ?, ?, 'V202501')", COUNTRIES)
        con.executemany("INSERT INTO raw.baci_products VALUES (?, 'a product', 'HS12', 'V202501')", [[c] for c in products])
        con.register("trade", trade)
        con.execute("INSERT INTO raw.baci_trade SELECT t, i, j, k, v, q, 'HS12', 'V202501', false FROM trade")
        members = ["country_codes_V202501.csv", "product_codes_HS12_V202501.csv",
                   "BACI_HS12_Y2019_V202501.csv", "BACI_HS12_Y2020_V202501.csv"]
        con.executemany("INSERT INTO raw.baci_files VALUES (?, 'HS12', 'V202501', 'z.zip', 'x', 'u', false, 1, now())",
                        [[member] for member in members])
        con.execute("""INSERT INTO raw.comtrade_flows VALUES
            ('A', 2023, null, 156, 'M', 842, 0, 'H6', '854231', 0, 'C00', 105.0, 100.0, 105.0, 1.0, 1.0, true, false, false),
            ('A', 2024, null, 842, 'X', 156, 0, 'H6', '854231', 0, 'C00', null, 99.0, 99.0, 1.0, 1.0, true, false, false),
            ('M', 2024, 12, 156, 'M', 842, 0, 'H6', '854231', 0, 'C00', 9.0, null, 9.0, 1.0, 1.0, true, false, false),
            ('M', 2025, 1, 156, 'M', 842, 0, 'H6', '854231', 0, 'C00', 8.0, null, 8.0, 1.0, 1.0, true, false, false)""")
        con.execute("""INSERT INTO raw.oecd_tiva VALUES
            ('PROD', 'CHN', 'C26', 'W', 'USD', 2015, 1.2e12, false),
            ('IMGR', 'CHN', 'C26', 'W', 'USD', 2015, 4.0e11, false)""")
        con.execute("""INSERT INTO raw.worldbank_indicators VALUES
            ('NV.IND.MANF.CD', 'Manufacturing', 'CHN', 'China', 2020, 3.8e12, '', '', 0, false),
            ('NV.IND.MANF.CD', 'Manufacturing', 'USA', 'United States', 2020, null, '', '', 0, false)""")
    return settings


def frame_and_expectations(settings, name):
    suite = SUITES[name]
    with connect(settings.warehouse_path, read_only=True) as con:
        expectations = suite.expectations(settings, con)
        frame = con.execute(*suite.query(settings, con)).df()
    return frame, expectations


@pytest.mark.parametrize("name", list(SUITES))
def test_good_rows_pass_every_suite(settings, name):
    outcome = raw_suites.validate(settings, SUITES[name])
    assert outcome.success, outcome.summary()
    assert outcome.row_count > 0


def set_value(column, value, row=0):
    def change(frame):
        frame = frame.copy()
        frame[column] = frame[column].astype(object)
        frame.loc[row, column] = value
        return frame
    return change


def duplicate_first_row(frame):
    return pd.concat([frame, frame.iloc[[0]]], ignore_index=True)


BREAKAGES = [
    ("raw_baci_trade", set_value("v", -3.0), "expect_column_values_to_be_between", "v"),
    ("raw_baci_trade", set_value("v", 0.0), "expect_column_values_to_be_between", "v"),
    ("raw_baci_trade", set_value("q", -1.0), "expect_column_values_to_be_between", "q"),
    ("raw_baci_trade", set_value("t", 2031), "expect_column_values_to_be_between", "t"),
    ("raw_baci_trade", set_value("k", "85423"), "expect_column_values_to_match_glob", "k"),
    ("raw_baci_trade", set_value("k", "85a231"), "expect_column_values_to_match_glob", "k"),
    ("raw_baci_trade", set_value("k", "8542311"), "expect_column_values_to_match_glob", "k"),
    ("raw_baci_trade", set_value("k", "000000"), "expect_column_values_to_be_in_reference", "k"),
    ("raw_baci_trade", set_value("i", 999), "expect_column_values_to_be_in_reference", "i"),
    ("raw_baci_trade", set_value("j", 998), "expect_column_values_to_be_in_reference", "j"),
    ("raw_baci_trade", set_value("k", None), "expect_column_values_to_not_be_null", "k"),
    ("raw_baci_trade", set_value("i", None), "expect_column_values_to_not_be_null", "i"),
    ("raw_baci_trade", duplicate_first_row, "expect_compound_columns_to_be_unique", "t,i,j,k"),
    ("raw_baci_trade", lambda f: f.drop(columns=["q"]), "expect_table_columns_to_match_ordered_list", "t,i,j,k,v,q"),
    ("raw_baci_trade", lambda f: f.astype({"v": str}), "expect_column_type", "v"),
    ("raw_baci_trade", lambda f: f.astype({"i": "int64"}), "expect_column_type", "i"),
    ("raw_baci_trade_years", lambda f: f.iloc[:1], "expect_column_distinct_values_to_equal_set", "year"),
    ("raw_baci_members", lambda f: f.iloc[1:], "expect_column_distinct_values_to_contain_set", "member"),
    ("raw_baci_china_import_shares", set_value("share_sum", 0.98), "expect_column_values_to_be_between", "share_sum"),
    ("raw_baci_trade_years", set_value("row_count", 3), "expect_column_values_to_be_between", "row_count"),
    ("raw_baci_countries", set_value("country_name", "CÃ´te d'Ivoire"), "expect_column_values_to_not_match_regex", "country_name"),
    ("raw_baci_countries", duplicate_first_row, "expect_column_values_to_be_unique", "country_code"),
    ("raw_baci_countries", set_value("country_iso3", "ch"), "expect_column_values_to_match_regex", "country_iso3"),
    ("raw_baci_countries", lambda f: f.iloc[:5], "expect_table_row_count_to_be_between", None),
    ("raw_baci_products", set_value("code", "1234"), "expect_column_values_to_match_regex", "code"),
    ("raw_baci_products", duplicate_first_row, "expect_column_values_to_be_unique", "code"),
    ("raw_comtrade_flows", set_value("primary_value", -1.0), "expect_column_values_to_be_between", "primary_value"),
    ("raw_comtrade_flows", set_value("flow_code", "Q"), "expect_column_values_to_be_in_set", "flow_code"),
    ("raw_comtrade_flows", duplicate_first_row, "expect_compound_columns_to_be_unique",
     "freq_code,ref_year,ref_month,reporter_code,partner_code,partner2_code,flow_code,cmd_code,mot_code,customs_code"),
    ("raw_comtrade_flows", set_value("freq_code", "Q"), "expect_column_values_to_be_in_set", "freq_code"),
    ("raw_comtrade_flows", set_value("freq_code", None), "expect_column_values_to_not_be_null", "freq_code"),
    ("raw_comtrade_flows", set_value("ref_month", 13, row=2), "expect_column_values_to_be_between", "ref_month"),
    ("raw_comtrade_flows", set_value("ref_month", 0, row=2), "expect_column_values_to_be_between", "ref_month"),
    ("raw_comtrade_flows", set_value("ref_year", 2026, row=3), "expect_column_values_to_be_between", "ref_year"),
    ("raw_oecd_tiva", set_value("measure", "VALU"), "expect_column_values_to_be_in_set", "measure"),
    ("raw_oecd_tiva", set_value("value_usd", -5.0), "expect_column_values_to_be_between", "value_usd"),
    ("raw_worldbank_indicators", set_value("country_iso3", "FRA"), "expect_column_values_to_be_in_set", "country_iso3"),
    ("raw_worldbank_indicators", set_value("year", 1990), "expect_column_values_to_be_between", "year"),
]


# Expectations on rows (not on the table's shape or a column's set of values): they list the offending rows.
ROW_LEVEL = {"expect_column_values_to_be_between", "expect_column_values_to_match_regex",
             "expect_column_values_to_match_glob", "expect_column_values_to_not_match_regex",
             "expect_column_values_to_be_in_reference", "expect_column_values_to_be_in_set", "expect_column_values_to_not_be_null",
             "expect_compound_columns_to_be_unique", "expect_column_values_to_be_unique", "expect_column_type"}


@pytest.mark.parametrize(("name", "breakage", "expectation", "column"), BREAKAGES)
def test_each_broken_invariant_fails_with_its_expectation_named(settings, tmp_path, name, breakage, expectation, column):
    frame, expectations = frame_and_expectations(settings, name)
    assert validate_frame(name, frame, expectations, tmp_path, settings.warehouse_path).success  # as it was: good
    outcome = validate_frame(name, breakage(frame), expectations, tmp_path, settings.warehouse_path)
    assert not outcome.success
    failures = {(f.expectation, f.column): f for f in outcome.failures}
    assert (expectation, column) in failures, outcome.summary()
    failure = failures[expectation, column]
    assert failure.error is None, failure.error  # it ran, and found the bad rows
    if expectation in ROW_LEVEL:
        assert failure.rows and failure.unexpected_count, failure  # the offending rows, for the check's metadata


def test_the_offending_rows_are_whole_rows(settings, tmp_path):
    frame, expectations = frame_and_expectations(settings, "raw_baci_trade")
    outcome = validate_frame("raw_baci_trade", set_value("v", -3.0, row=7)(frame), expectations, tmp_path,
                             settings.warehouse_path)
    [failure] = [f for f in outcome.failures if f.column == "v" and f.expectation == "expect_column_values_to_be_between"]
    assert failure.unexpected_count == 1 and failure.sample == [-3.0]
    assert failure.rows == [{**frame.iloc[7].to_dict(), "v": -3.0, "q": failure.rows[0]["q"]}]
    reference = next(f for f in validate_frame("raw_baci_trade", set_value("k", "000000", row=3)(frame), expectations,
                                               tmp_path, settings.warehouse_path).failures if f.column == "k")
    assert reference.unexpected_count == 1 and reference.rows[0]["k"] == "000000" and reference.rows[0]["i"] == frame["i"][3]


def test_a_missing_table_fails_the_suite(settings, tmp_path):
    empty = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_YEARS": "2019-2020"})
    duckdb.connect(str(empty.warehouse_path)).close()
    with pytest.raises(duckdb.CatalogException):
        raw_suites.validate(empty, SUITES["raw_baci_trade"])


def test_parameters_become_quoted_literals():
    assert raw_suites.with_literals("SELECT 1 WHERE a = ? AND b BETWEEN ? AND ?", ["HS'12", 2019, 2020]) == (
        "SELECT 1 WHERE a = 'HS''12' AND b BETWEEN 2019 AND 2020")
    with pytest.raises(ValueError):
        raw_suites.with_literals("SELECT ?", [])
