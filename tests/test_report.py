"""The HTML report: charts drawn from the marts' numbers, labels read from the data, self-contained, and loud about
synthetic data."""

import re

import polars as pl

from dagster_project import report


BACI, REPORTED = "FOB, reconciled (BACI)", "imports CIF, exports FOB (China-reported)"


def report_data(synthetic: bool, baseline=(2013, 2015), latest=(2021, 2023), reported_last_year: bool = False) -> report.ReportData:
    years = [baseline[0], latest[1]]
    last_valuation = REPORTED if reported_last_year else BACI
    sectors = pl.DataFrame({
        "sector": ["Rail <&>"] * 4,
        "partner_group": ["US", "EU27"] * 2,
        "year": [years[0], years[0], years[1], years[1]],
        "partner_import_share": [0.1, 0.4, 0.05, 0.2],
        "is_synthetic": [synthetic] * 4,
        "data_source": ["BACI V202501"] * 4,
        "valuation": [BACI, BACI, last_valuation, last_valuation],
    })
    trend = pl.DataFrame({
        "sector": ["Rail <&>"], "partner_group": ["US+EU"], "baseline_first_year": [baseline[0]],
        "baseline_last_year": [baseline[1]], "latest_first_year": [latest[0]], "latest_last_year": [latest[1]],
        "partner_import_share_baseline": [0.5], "partner_import_share_latest": [0.25],
        "partner_import_share_change_pp": [-25.0], "measured_direction": ["falling dependency"], "basket_break_years": [None],
        "latest_window_sources": ["BACI; UN Comtrade (China-reported)" if reported_last_year else "BACI"],
    })
    claims = pl.DataFrame({
        "sector": ["Rail <&>", "Aerospace"], "partner_group": ["US+EU"] * 2, "has_claim": [True, False],
        "claim_quote": ["high levels of self-sufficiency", "The article does not speak about this sector."],
        "quote_is_verbatim": [True, None], "claim_type": ["high self-sufficiency", None],
        "level_test": ["net exporter", None], "level_test_passed": [True, None],
        "change_test": ["partner share down by more than 2 pp", None], "change_test_passed": [True, None],
        "partner_import_share_baseline": [0.5, 0.2], "partner_import_share_latest": [0.25, 0.2],
        "partner_import_share_change_pp": [-25.0, 0.0], "normalised_trade_balance_latest": [0.8, -0.2],
        "dependent_import_share_latest": [0.0, 0.1], "verdict": ["consistent", "no claim"],
        "basket_meaning_changed": [False, False],
    })
    shift = pl.DataFrame({
        "sector": ["Rail <&>"] * 2, "supplier_code": [842, 392], "supplier_name": ["USA", "Japan"],
        "supplier_partner_groups": ["US; US+EU", "Japan"], "baseline_import_share": [0.3, 0.1],
        "latest_import_share": [0.1, 0.3], "share_change_pp": [-20.0, 20.0],
    })
    chokepoints = pl.DataFrame({
        "hs6": ["848620"], "product_description": ["Machines for semiconductor devices"], "sectors": ["Chip-making equipment"],
        "imports_from_world_usd": [2.5e9], "chokepoint_group_import_share": [0.81], "supplier_hhi": [0.48],
        "world_export_hhi": [0.46], "supplier_1_name": ["Netherlands"],
    })
    counts = pl.DataFrame({"sector": ["Chip-making equipment", "Rail <&>"], "chokepoint_product_count": [1, 0]})
    return report.ReportData(sectors, trend, claims, shift, chokepoints, counts, synthetic, "BACI V202501")


def test_the_report_draws_each_section_from_the_data():
    page = report.render(report_data(synthetic=False), "US+EU", 2)
    # one sector panel, the change chart, one suppliers panel, the chokepoint counts
    assert page.count('<svg class="chart"') == 4
    assert "Rail &lt;&amp;&gt;" in page and "Rail <&>" not in page  # names are escaped
    assert "-25.0 pp" in page and "848620" in page and "2,500.0" in page and "81%" in page and "Netherlands" in page
    assert "consistent" in page and "The article does not speak about this sector." in page
    assert "SYNTHETIC" not in page


def test_every_chart_has_a_title_labelled_axes_and_its_numbers_behind_it():
    page = report.render(report_data(synthetic=False), "US+EU", 2)
    charts = re.findall(r'<svg class="chart".*?</svg>', page, flags=re.S)
    assert all("<title>" in chart and 'class="axis-label"' in chart for chart in charts)
    assert page.count("<details>") == 4  # shares, change, suppliers, chokepoints


def test_the_labels_come_from_the_build_years():
    page = report.render(report_data(synthetic=False, baseline=(2020, 2022), latest=(2021, 2023)), "US+EU", 2)
    assert "2020-2022" in page and "2015" not in page and "2013" not in page


def test_the_report_needs_no_network():
    page = report.render(report_data(synthetic=True), "US+EU", 2)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page) and "<script" not in page
    assert "@import" not in page and "url(" not in page


def test_a_synthetic_report_says_so_at_the_top_and_bottom():
    page = report.render(report_data(synthetic=True), "US+EU", 2)
    assert page.count("SYNTHETIC SAMPLE") >= 3 and page.index("SYNTHETIC SAMPLE") < page.index("<h1>")
    assert "not findings" in page and "say nothing about China" in page


def test_line_chart_scales_shares_to_one_axis_and_marks_the_baseline():
    svg = report.line_chart({"US": [(2015, 0.0), (2023, 0.3)]}, y_top=0.4, band=(2015, 2016), title="x",
                            width=320, height=190)
    path = re.search(r'<path class="series" d="([^"]+)"', svg).group(1)
    # 0 on the axis (y 156), 0.3 at three quarters of the 0.4 scale (156 - 0.75 * 142), x from 40 to 286
    assert path == "M40.0,156.0 L286.0,49.5"
    assert ">40%<" in svg and ">30%<" in svg  # gridline labels of the shared scale; the end value
    band_x = float(re.search(r'<rect class="band" x="([\d.]+)"', svg).group(1))
    assert abs(band_x - (40 - 4)) < 0.1 and ">baseline<" in svg


def test_bars_are_coloured_by_class_and_the_stable_band_is_drawn():
    bars = [("Rail", -10.0, report.CLASS_COLOURS["falling dependency"]), ("Aero", 1.0, report.CLASS_COLOURS["stable"])]
    svg = report.bar_chart(bars, axis_label="pp", unit="pp", title="x", band=2, width=760)
    rects = re.findall(r'<rect class="bar" x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="[\d.]+" fill="([^"]+)"', svg)
    zero = 230 + (760 - 230) / 2
    (rail_x, rail_w, rail_colour), (aero_x, aero_w, aero_colour) = rects
    assert abs(float(rail_x) + float(rail_w) - zero) < 0.1 and abs(float(aero_x) - zero) < 0.1
    assert abs(float(aero_w) * 10 - float(rail_w)) < 0.1  # lengths proportional to the values
    assert rail_colour == report.CLASS_COLOURS["falling dependency"] and aero_colour == report.CLASS_COLOURS["stable"]
    band_width = float(re.search(r'<rect class="band" x="[\d.]+" y="[\d.]+" width="([\d.]+)"', svg).group(1))
    assert abs(band_width - float(rail_w) * 2 * 2 / 10) < 0.1 and "stable band" in svg


def test_the_share_axis_rounds_up_to_ten_percent_steps():
    assert [report._nice_top(v) for v in (0.0, 0.03, 0.1, 0.31, 0.95, 1.0)] == [0.1, 0.1, 0.1, 0.4, 1.0, 1.0]


def test_years_from_chinas_own_reports_are_marked():
    page = report.render(report_data(synthetic=False, reported_last_year=True), "US+EU", 2)
    assert "China's reports to UN Comtrade 2023" in page and 'class="reported"' in page and ">China-reported<" in page
    assert "fct_source_overlap" in page
    plain = report.render(report_data(synthetic=False), "US+EU", 2)
    assert 'class="reported"' not in plain and "China-reported" not in plain
