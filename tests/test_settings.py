import re
from datetime import date

import pytest

from dagster_project.settings import BIN_DIR, DBT_PROJECT_DIR, SettingsError, load_settings, parse_months, parse_years


def test_years_accept_ranges_and_lists():
    assert parse_years("2012-2014") == (2012, 2013, 2014)
    assert parse_years("2023, 2015,2019") == (2015, 2019, 2023)


@pytest.mark.parametrize("text", ["2012-", "twenty", "2014-2012", "12-14", "2012;2013"])
def test_bad_years_are_refused_with_the_variable_named(text):
    with pytest.raises(SettingsError, match="TRADEDEP_YEARS"):
        parse_years(text)


def test_defaults_follow_the_revision_and_release(tmp_path):
    settings = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path)})
    assert settings.hs_revision == "HS12"
    assert settings.years == tuple(range(2012, 2024))  # V202501 ends with 2023
    assert settings.warehouse_path == tmp_path / "warehouse.duckdb"
    assert settings.landing_dir == tmp_path / "raw"
    assert settings.baci_landing_dir == tmp_path / "raw" / "baci"
    assert not settings.sample


def test_the_sample_lands_apart_from_real_downloads(tmp_path):
    settings = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_SAMPLE": "1"})
    assert settings.sample
    assert settings.baci_landing_dir == tmp_path / "raw" / "sample" / "baci"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("TRADEDEP_HS_REVISION", "HS99", "TRADEDEP_HS_REVISION"),
        ("TRADEDEP_YEARS", "2010-2013", "covers 2012-2023"),
        ("TRADEDEP_YEARS", "2012-2030", "covers 2012-2023"),
        ("TRADEDEP_BACI_RELEASE", "latest", "TRADEDEP_BACI_RELEASE"),
        ("TRADEDEP_BACI_URL", "ftp://mirror", "TRADEDEP_BACI_URL"),
        ("TRADEDEP_SAMPLE", "maybe", "TRADEDEP_SAMPLE"),
        ("TRADEDEP_MAX_BAD_ROW_SHARE", "2", "TRADEDEP_MAX_BAD_ROW_SHARE"),
        ("TRADEDEP_COMTRADE_THROTTLE", "soon", "TRADEDEP_COMTRADE_THROTTLE"),
        ("TRADEDEP_COMTRADE_PRODUCTS", "8542", "TRADEDEP_COMTRADE_PRODUCTS"),
        ("TRADEDEP_COMTRADE_PRODUCTS", "854231;DROP", "TRADEDEP_COMTRADE_PRODUCTS"),
        ("TRADEDEP_COMTRADE_YEARS", "1990-1995", "TRADEDEP_COMTRADE_YEARS"),
        ("TRADEDEP_COMTRADE_YEARS", "latest", "TRADEDEP_COMTRADE_YEARS"),
        ("TRADEDEP_COMTRADE_MONTHS", "2025-12", "TRADEDEP_COMTRADE_MONTHS"),
        ("TRADEDEP_COMTRADE_MONTHS", "2025-13..2026-01", "TRADEDEP_COMTRADE_MONTHS"),
        ("TRADEDEP_COMTRADE_MONTHS", "off", "TRADEDEP_COMTRADE_MONTHS"),
        ("TRADEDEP_OECD_URL", "file:///etc/passwd", "TRADEDEP_OECD_URL"),
        ("TRADEDEP_WORLDBANK_URL", "http://", "TRADEDEP_WORLDBANK_URL"),
        ("TRADEDEP_OECD_THROTTLE", "-1", "TRADEDEP_OECD_THROTTLE"),
        ("TRADEDEP_REFRESH", "please", "TRADEDEP_REFRESH"),
        ("TRADEDEP_SOURCES", "baci,eurostat", "TRADEDEP_SOURCES"),
    ],
)
def test_invalid_settings_are_named(tmp_path, variable, value, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), variable: value})


def test_revision_changes_the_year_range(tmp_path):
    settings = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_HS_REVISION": "hs22"})
    assert settings.hs_revision == "HS22"
    assert settings.years == (2022, 2023)


def test_child_processes_get_the_same_warehouse(tmp_path):
    settings = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_YEARS": "2015,2019"})
    env = settings.process_env()
    assert env["TRADEDEP_WAREHOUSE"] == str(tmp_path / "warehouse.duckdb")
    assert load_settings(env) == settings


def test_sources_can_be_switched_off_but_not_baci(tmp_path):
    settings = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_SOURCES": "worldbank, baci"})
    assert settings.sources == ("baci", "worldbank")
    with pytest.raises(SettingsError, match="must include baci"):
        load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_SOURCES": "comtrade"})
    with pytest.raises(SettingsError, match="unknown source"):
        load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_SOURCES": "baci,eurostat"})


def test_comtrade_years_default_to_what_baci_lacks_plus_an_overlap_year(tmp_path):
    settings = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path)})
    assert settings.comtrade_years[0] == 2023 and len(settings.comtrade_years) >= 2
    explicit = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_COMTRADE_YEARS": "2022-2024"})
    assert explicit.comtrade_years == (2022, 2023, 2024)
    assert explicit.worldbank_years == (2012, 2024)


def test_the_api_key_is_never_printed_nor_passed_on(tmp_path):
    settings = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "COMTRADE_API_KEY": "secret-123"})
    assert settings.comtrade_api_key == "secret-123"
    assert "secret-123" not in repr(settings) and "secret-123" not in str(settings.process_env())


def test_each_source_lands_in_its_own_folder(tmp_path):
    live = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path)})
    sample = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_SAMPLE": "1"})
    assert live.landing_for("comtrade") == tmp_path / "raw" / "comtrade"
    assert sample.landing_for("comtrade") == tmp_path / "raw" / "sample" / "comtrade"


def test_comtrade_months_default_to_the_twelve_months_ending_with_last_month(tmp_path):
    months = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path)}).comtrade_months
    today = date.today()
    last = (today.year, today.month - 1) if today.month > 1 else (today.year - 1, 12)
    assert len(months) == 12 and months[-1] == last[0] * 100 + last[1]
    assert all(1 <= month % 100 <= 12 for month in months) and months == tuple(sorted(months))
    assert parse_months("2025-12..2026-11", date(2026, 12, 2)) == (202512, *range(202601, 202612))  # the default today


def test_comtrade_months_take_a_range_or_none_and_travel_to_child_processes(tmp_path):
    settings = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_COMTRADE_MONTHS": "2024-11..2025-02"})
    assert settings.comtrade_months == (202411, 202412, 202501, 202502)
    assert settings.process_env()["TRADEDEP_COMTRADE_MONTHS"] == "2024-11..2025-02"
    assert load_settings(settings.process_env()) == settings
    off = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_COMTRADE_MONTHS": "None"})
    assert off.comtrade_months == () and load_settings(off.process_env()).comtrade_months == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-03..2026-01", "ends before it starts"),
        ("2026-00..2026-01", "months are 01 to 12"),
        ("1999-12..2000-02", "from 2000-01 to 2026-12"),
        ("2026-11..2027-01", "from 2000-01 to 2026-12"),  # months to come have no data
        ("2026-1..2026-02", "like '2025-12..2026-11'"),
        ("2025-12-2026-11", "like '2025-12..2026-11'"),
    ],
)
def test_bad_comtrade_months_are_refused_with_the_variable_named(text, message):
    with pytest.raises(SettingsError, match=f"TRADEDEP_COMTRADE_MONTHS={text!r}: .*{message}"):
        parse_months(text, date(2026, 12, 2))


def test_analysis_parameters_come_from_dbt_project_and_can_be_overridden(tmp_path):
    defaults = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path)})
    assert defaults.parameter("dependency_hhi") == 0.4 and defaults.parameter("chokepoint_group") == "US+EU"
    changed = load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), "TRADEDEP_DEPENDENCY_HHI": "0.25",
                             "TRADEDEP_TREND_WINDOW_YEARS": "4", "TRADEDEP_CLAIM_PARTNER_GROUP": "US"})
    variables = changed.dbt_vars()
    assert (variables["dependency_hhi"], variables["trend_window_years"], variables["claim_partner_group"]) == (0.25, 4, "US")
    assert variables["warehouse_path"] == str(tmp_path / "warehouse.duckdb")  # dbt's profile reads it from here
    assert load_settings(changed.process_env()) == changed  # a child process (the UI) gets the same parameters


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("TRADEDEP_DEPENDENCY_HHI", "high", "TRADEDEP_DEPENDENCY_HHI='high': expected a number"),
    ("TRADEDEP_PERSISTENT_WINDOW_YEARS", "2.5", "TRADEDEP_PERSISTENT_WINDOW_YEARS='2.5': expected a whole number"),
])
def test_a_parameter_of_the_wrong_kind_is_named(tmp_path, variable, value, message):
    with pytest.raises(SettingsError, match=message):
        load_settings({"TRADEDEP_DATA_DIR": str(tmp_path), variable: value})


def test_every_dbt_var_the_models_read_is_passed_by_the_settings(tmp_path):
    """A var a model reads but the settings do not pass would silently take dbt_project.yml's value, whatever the
    user set: every var() in the dbt project is among the settings' dbt vars."""
    read = {match for path in DBT_PROJECT_DIR.glob("**/*.sql") if "target" not in path.parts
            for match in re.findall(r"var\(\s*['\"](\w+)['\"]", path.read_text(encoding="utf-8"))}
    assert read and read <= set(load_settings({"TRADEDEP_DATA_DIR": str(tmp_path)}).dbt_vars())


def test_the_dbt_resource_skips_the_version_probe_and_the_in_process_adapter_dagster_dbt_would_make():
    """resources.DbtCli overrides two private methods of dagster-dbt's DbtCliResource: an upgrade that renames or
    drops them would silently bring their cost back, so their names are checked here."""
    from dagster_dbt import DbtCliResource

    from dagster_project.assets.resources import DbtCli

    assert {"_cli_version", "_initialize_dbt_core_adapter"} <= set(dir(DbtCliResource))
    dbt = DbtCli(project_dir=str(DBT_PROJECT_DIR), profiles_dir=str(DBT_PROJECT_DIR), dbt_executable=str(BIN_DIR / "dbt"))
    assert dbt._cli_version.major == 1  # dbt Core, not the Fusion engine
    assert dbt._initialize_dbt_core_adapter(["build"]) is None
