"""A self-contained HTML report of the headline results, with inline SVG charts (no CDN, no scripts).

The numbers come from the marts as they are: this module only selects and draws them.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from dagster_project.sources.landing import write_atomic
from dagster_project.warehouse import connect

PARTNER_COLOURS = {"US": "#1f5fa8", "EU27": "#d08a00", "US+EU": "#6b6b6b"}
CHOKEPOINT_ROWS = 30


@dataclass(frozen=True)
class ReportData:
    sectors: pl.DataFrame  # fct_sector_dependency for the partner groups drawn
    trend: pl.DataFrame  # fct_self_reliance_trend
    chokepoints: pl.DataFrame  # chokepoint products of the latest year, with descriptions
    chokepoint_counts: pl.DataFrame  # chokepoint products per sector and year
    synthetic: bool
    data_source: str


def read_report_data(warehouse: Path, chokepoint_group: str) -> ReportData:
    groups = sorted({"US", "EU27", chokepoint_group})
    with connect(warehouse, read_only=True) as con:
        sectors = con.sql("SELECT * FROM marts.fct_sector_dependency WHERE partner_group IN ? ORDER BY sector, year",
                          params=[groups]).pl()
        trend = con.sql("SELECT * FROM marts.fct_self_reliance_trend ORDER BY sector, partner_group").pl()
        chokepoints = con.sql(
            """SELECT p.hs6, d.description, p.sectors, p.imports_from_world_usd, p.chokepoint_group_import_share,
                      p.supplier_hhi, p.world_export_hhi, p.is_persistent_dependency
               FROM marts.fct_product_dependency p LEFT JOIN marts.dim_product d USING (hs6)
               WHERE p.is_chokepoint AND p.year = (SELECT max(year) FROM marts.fct_product_dependency)
               ORDER BY p.imports_from_world_usd DESC"""
        ).pl()
        counts = con.sql(
            "SELECT sector, year, chokepoint_product_count FROM marts.fct_sector_dependency "
            "WHERE partner_group = ? ORDER BY sector, year", params=[chokepoint_group]
        ).pl()
    if sectors.is_empty():
        raise ValueError(f"marts.fct_sector_dependency in {warehouse} has no rows: build the marts first")
    return ReportData(sectors, trend, chokepoints, counts, bool(sectors["is_synthetic"].any()), sectors["data_source"][0])


def write_report(warehouse: Path, target: Path, chokepoint_group: str, baseline_year: int) -> ReportData:
    """Render the report from the marts and write it atomically to `target`."""
    data = read_report_data(warehouse, chokepoint_group)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, render(data, chokepoint_group, baseline_year).encode("utf-8"))
    return data


def render(data: ReportData, chokepoint_group: str, baseline_year: int) -> str:
    years = data.sectors["year"]
    latest = int(years.max())
    banner = (
        '<div class="synthetic" role="alert">SYNTHETIC SAMPLE: every number in this report is invented '
        "(built with --sample). Do not quote it.</div>"
        if data.synthetic else ""
    )
    body = "\n".join([
        banner,
        "<h1>China's import dependency on the US and the EU, by sector</h1>",
        f'<p class="meta">Years {int(years.min())}-{latest} &middot; {html.escape(data.data_source)} &middot; '
        f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by tradedep</p>",
        _section_shares(data, baseline_year),
        _section_change(data, chokepoint_group, baseline_year),
        _section_chokepoints(data, chokepoint_group, latest),
        _section_claims(data, chokepoint_group),
        banner,
    ])
    title = ("SYNTHETIC SAMPLE - " if data.synthetic else "") + "tradedep report"
    return f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"


def _section_shares(data: ReportData, baseline_year: int) -> str:
    panels = []
    for (sector,), rows in data.sectors.filter(pl.col("partner_group").is_in(["US", "EU27"])).group_by("sector", maintain_order=True):
        series = {
            group: list(zip(part["year"].to_list(), part["partner_import_share"].fill_null(0).to_list(), strict=True))
            for (group,), part in rows.sort("year").group_by("partner_group", maintain_order=True)
        }
        panels.append(f'<figure class="panel"><figcaption>{html.escape(sector)}</figcaption>'
                      f"{line_chart(series, marker_x=baseline_year, label=f'{sector}: share of imports from the US and EU27')}</figure>")
    legend = _legend(["US", "EU27"])
    return (f"<h2>Share of China's imports from the US and the EU27, by sector and year</h2>"
            f"<p>Partner share of the sector's imports from the world (fct_sector_dependency.partner_import_share). "
            f"The dashed line marks {baseline_year}, the baseline year. {legend}</p>"
            f'<div class="panels">{"".join(panels)}</div>')


def _section_change(data: ReportData, chokepoint_group: str, baseline_year: int) -> str:
    rows = data.trend.filter(pl.col("partner_group") == chokepoint_group).sort("partner_import_share_change_pp")
    bars = [(sector, change) for sector, change in zip(rows["sector"], rows["partner_import_share_change_pp"], strict=True)
            if change is not None]
    return (f"<h2>Change in the {html.escape(chokepoint_group)} share since {baseline_year}</h2>"
            "<p>Percentage points, latest year minus baseline year (fct_self_reliance_trend.partner_import_share_change_pp). "
            "Negative: China buys relatively less of the sector from the US and the EU.</p>"
            + diverging_bar_chart(bars, unit="pp", label=f"Change in the {chokepoint_group} share since {baseline_year}"))


def _section_chokepoints(data: ReportData, chokepoint_group: str, latest: int) -> str:
    latest_counts = data.chokepoint_counts.filter(pl.col("year") == latest).sort("chokepoint_product_count", descending=True)
    bars = [(s, float(n)) for s, n in zip(latest_counts["sector"], latest_counts["chokepoint_product_count"], strict=True) if n]
    chart = diverging_bar_chart(bars, unit="", label=f"Chokepoint products per sector, {latest}") if bars else "<p>No chokepoint products.</p>"
    table_rows = [
        [row["hs6"], row["description"] or "", row["sectors"] or "", f"{row['imports_from_world_usd'] / 1e6:,.1f}",
         _percent(row["chokepoint_group_import_share"]), f"{row['supplier_hhi']:.2f}", f"{row['world_export_hhi']:.2f}",
         "yes" if row["is_persistent_dependency"] else "no"]
        for row in data.chokepoints.head(CHOKEPOINT_ROWS).iter_rows(named=True)
    ]
    table = _table(["HS6", "product", "sectors", "imports (USD m)", f"{chokepoint_group} share", "supplier HHI",
                    "world-export HHI", "persistent"], table_rows, numeric={3, 4, 5, 6})
    shown = f"the {CHOKEPOINT_ROWS} largest of {data.chokepoints.height}" if data.chokepoints.height > CHOKEPOINT_ROWS else f"all {data.chokepoints.height}"
    return (f"<h2>Chokepoint products in {latest}</h2>"
            f"<p>Products where China is dependent (concentrated suppliers, concentrated world supply, imports above exports) "
            f"and the {html.escape(chokepoint_group)} share of its imports is above the threshold (fct_product_dependency.is_chokepoint).</p>"
            f"{chart}<p>Products by imports, {shown}:</p>{table}")


def _section_claims(data: ReportData, chokepoint_group: str) -> str:
    rows = data.trend.filter(pl.col("partner_group") == chokepoint_group)
    agreement = {True: "agrees", False: "disagrees", None: "no claim"}
    table_rows = [
        [row["sector"], row["claim"] or "", row["claimed_direction"] or "", row["measured_direction"] or "",
         _signed(row["partner_import_share_change_pp"]), agreement[row["claim_agrees"]]]
        for row in rows.iter_rows(named=True)
    ]
    table = _table(["sector", "public claim", "claimed", "measured", "change (pp)", "verdict"], table_rows, numeric={4})
    return (f"<h2>Measured against claimed</h2><p>Direction of the {html.escape(chokepoint_group)} share between the baseline "
            f"and the latest year (fct_self_reliance_trend), against the public claim for the sector (seed sector_claims).</p>{table}")


def line_chart(series: dict[str, list[tuple[int, float]]], marker_x: int | None, label: str,
               width: int = 300, height: int = 170) -> str:
    """Lines of y in [0, top] over integer x, with a dashed vertical marker; one colour per series."""
    points = [point for values in series.values() for point in values]
    if not points:
        return '<p class="empty">no data</p>'
    left, right, top_pad, bottom = 36, 8, 8, 22
    xs = [x for x, _ in points]
    x_min, x_max = min(xs), max(xs)
    y_top = _nice_top(max(y for _, y in points))

    def sx(x: float) -> float:
        return left + (x - x_min) / max(x_max - x_min, 1) * (width - left - right)

    def sy(y: float) -> float:
        return height - bottom - y / y_top * (height - bottom - top_pad)

    parts = [f'<line class="axis" x1="{left}" y1="{sy(0):.1f}" x2="{width - right}" y2="{sy(0):.1f}"/>',
             f'<text x="{left - 4}" y="{sy(y_top) + 4:.1f}" text-anchor="end">{y_top:.0%}</text>',
             f'<text x="{left - 4}" y="{sy(0):.1f}" text-anchor="end">0%</text>',
             f'<text x="{left}" y="{height - 6}">{x_min}</text>',
             f'<text x="{width - right}" y="{height - 6}" text-anchor="end">{x_max}</text>']
    if marker_x is not None and x_min <= marker_x <= x_max:
        parts.append(f'<line class="marker" x1="{sx(marker_x):.1f}" y1="{top_pad}" x2="{sx(marker_x):.1f}" y2="{sy(0):.1f}"/>')
    for name, values in series.items():
        path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(values))
        colour = PARTNER_COLOURS.get(name, "#444")
        parts.append(f'<path class="series" d="{path}" stroke="{colour}"><title>{html.escape(name)}</title></path>')
    return f'<svg class="chart" role="img" aria-label="{html.escape(label)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">{"".join(parts)}</svg>'


def diverging_bar_chart(bars: list[tuple[str, float]], unit: str, label: str, width: int = 760) -> str:
    """Horizontal bars from a zero line: negative values to the left in green, positive to the right in red;
    without a unit, plain counts in grey."""
    if not bars:
        return '<p class="empty">no data</p>'
    row, label_width, pad = 22, 230, 60
    height = row * len(bars) + 10
    extent = max(abs(value) for _, value in bars) or 1
    has_negative = any(value < 0 for _, value in bars)
    zero = label_width + ((width - label_width) / 2 if has_negative else pad / 2)
    scale = ((width - label_width) / 2 - pad if has_negative else width - label_width - pad * 1.5) / extent
    parts = [f'<line class="axis" x1="{zero:.1f}" y1="0" x2="{zero:.1f}" y2="{height}"/>']
    for index, (name, value) in enumerate(bars):
        y = 5 + index * row
        x0, x1 = sorted((zero, zero + value * scale))
        kind = "count" if not unit else "down" if value < 0 else "up"
        text_x, anchor = (x0 - 4, "end") if value < 0 else (x1 + 4, "start")
        parts += [f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{html.escape(name)}</text>',
                  f'<rect class="bar {kind}" x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1):.1f}" height="{row - 6}">'
                  f"<title>{html.escape(name)}: {value:+.1f}{unit}</title></rect>",
                  f'<text x="{text_x:.1f}" y="{y + 15}" text-anchor="{anchor}">{value:+.1f}{unit}</text>' if unit
                  else f'<text x="{text_x:.1f}" y="{y + 15}" text-anchor="{anchor}">{value:.0f}</text>']
    return f'<svg class="chart" role="img" aria-label="{html.escape(label)}" viewBox="0 0 {width} {height}" width="{width}" height="{height}">{"".join(parts)}</svg>'


def _nice_top(value: float) -> float:
    """The smallest of 10%, 20%, ..., 100% at or above value."""
    return min(1.0, max(0.1, -(-value * 10 // 1) / 10))


def _legend(groups: list[str]) -> str:
    return " ".join(f'<span class="key" style="border-color:{PARTNER_COLOURS[g]}">{g}</span>' for g in groups)


def _table(header: list[str], rows: list[list[str]], numeric: set[int]) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    body = "".join(
        "<tr>" + "".join(f'<td{" class=num" if i in numeric else ""}>{html.escape(str(cell))}</td>' for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.0%}"


def _signed(value: float | None) -> str:
    return "" if value is None else f"{value:+.1f}"


STYLE = """
body { font-family: system-ui, -apple-system, sans-serif; margin: 2rem auto; max-width: 1100px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; }
.synthetic { background: #a51d1d; color: #fff; font-weight: bold; font-size: 1.2rem; padding: 0.8rem 1rem; margin: 1rem 0; border-radius: 4px; }
.panels { display: flex; flex-wrap: wrap; gap: 0.8rem; }
.panel { margin: 0; border: 1px solid #e3e3e3; padding: 0.3rem; }
figcaption { font-size: 0.85rem; font-weight: 600; }
svg.chart text { font-size: 11px; fill: #444; }
svg.chart .axis { stroke: #999; } svg.chart .marker { stroke: #999; stroke-dasharray: 4 3; }
svg.chart .series { fill: none; stroke-width: 2; }
svg.chart .bar.down { fill: #2e7d4f; } svg.chart .bar.up { fill: #b23b3b; } svg.chart .bar.count { fill: #55607a; }
.key { border-left: 14px solid; padding-left: 4px; margin-right: 0.8rem; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
td, th { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
"""
