"""The HTML report: charts drawn from the marts' numbers, self-contained, and loud about synthetic data."""

import re

import polars as pl

from dagster_project import report


def report_data(synthetic: bool) -> report.ReportData:
    sectors = pl.DataFrame({
        "sector": ["Rail <&>"] * 6,
        "partner_group": ["US", "EU27", "US+EU"] * 2,
        "year": [2015, 2015, 2015, 2023, 2023, 2023],
        "partner_import_share": [0.1, 0.4, 0.5, 0.05, 0.2, 0.25],
        "is_synthetic": [synthetic] * 6,
        "data_source": ["BACI V202501"] * 6,
    })
    trend = pl.DataFrame({
        "sector": ["Rail <&>"], "partner_group": ["US+EU"], "partner_import_share_change_pp": [-25.0],
        "claim": ["Self-reliant by 2025"], "claimed_direction": ["falling dependency"],
        "measured_direction": ["falling dependency"], "claim_agrees": [True],
    })
    chokepoints = pl.DataFrame({
        "hs6": ["848620"], "description": ["Machines for semiconductor devices"], "sectors": ["Chip-making equipment"],
        "imports_from_world_usd": [2.5e9], "chokepoint_group_import_share": [0.81], "supplier_hhi": [0.48],
        "world_export_hhi": [0.46], "is_persistent_dependency": [True],
    })
    counts = pl.DataFrame({"sector": ["Chip-making equipment"], "year": [2023], "chokepoint_product_count": [1]})
    return report.ReportData(sectors, trend, chokepoints, counts, synthetic, "BACI V202501")


def test_the_report_draws_each_section_from_the_data():
    page = report.render(report_data(synthetic=False), "US+EU", 2015)
    assert page.count('<svg class="chart"') == 3  # one sector panel, the change chart, the chokepoint counts
    assert "Rail &lt;&amp;&gt;" in page and "Rail <&>" not in page  # names are escaped
    assert "-25.0pp" in page and "848620" in page and "2,500.0" in page and "81%" in page and "agrees" in page
    assert "SYNTHETIC" not in page


def test_the_report_needs_no_network():
    page = report.render(report_data(synthetic=True), "US+EU", 2015)
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page) and "<script" not in page
    assert "@import" not in page and "url(" not in page


def test_a_synthetic_report_says_so_at_the_top_and_bottom():
    page = report.render(report_data(synthetic=True), "US+EU", 2015)
    assert page.count("SYNTHETIC SAMPLE") >= 3 and page.index("SYNTHETIC SAMPLE") < page.index("<h1>")


def test_line_chart_scales_shares_to_the_plot():
    svg = report.line_chart({"US": [(2015, 0.0), (2023, 0.3)]}, marker_x=2015, label="x", width=300, height=170)
    path = re.search(r'<path class="series" d="([^"]+)"', svg).group(1)
    assert path == "M36.0,148.0 L292.0,8.0"  # 0 at the axis, 0.3 at the 30% top, x from the left to the right margin
    assert 'class="marker" x1="36.0"' in svg and ">30%<" in svg


def test_diverging_bars_put_falling_shares_left_of_zero():
    svg = report.diverging_bar_chart([("Rail", -10.0), ("Aerospace", 5.0)], unit="pp", label="x", width=760)
    rail, aerospace = re.findall(r'<rect class="bar (\w+)" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg)
    zero = 230 + (760 - 230) / 2
    assert rail[0] == "down" and abs(float(rail[1]) + float(rail[2]) - zero) < 0.1
    assert aerospace[0] == "up" and abs(float(aerospace[1]) - zero) < 0.1
    assert abs(float(aerospace[2]) * 2 - float(rail[2])) < 0.1  # lengths proportional to the values


def test_the_share_axis_rounds_up_to_ten_percent_steps():
    assert [report._nice_top(v) for v in (0.0, 0.03, 0.1, 0.31, 0.95, 1.0)] == [0.1, 0.1, 0.1, 0.4, 1.0, 1.0]
