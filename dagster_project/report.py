"""A self-contained HTML report of the headline results, with inline SVG charts (no CDN, no scripts).

The numbers come from the marts as they are: this module only selects and draws them. Every label (years,
baseline window, partner group, band) is read from the data the report is drawn from. Each chart has a title,
labelled axes with units, and the table of its numbers behind it.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from dagster_project.files import write_atomic
from dagster_project.warehouse import connect

PARTNER_COLOURS = {"US": "#1f5fa8", "EU27": "#d08a00", "US+EU": "#6b6b6b"}
CLASS_COLOURS = {"falling dependency": "#2e7d4f", "stable": "#8a8f99", "rising dependency": "#b23b3b"}
CHOKEPOINT_ROWS = 30
SUPPLIERS_PER_SECTOR = 6
BASKET = "full"  # the headline basket the report draws


@dataclass(frozen=True)
class ReportData:
    sectors: pl.DataFrame  # fct_sector_dependency, full basket, US and EU27
    trend: pl.DataFrame  # fct_self_reliance_trend, full basket, the claim partner group
    claims: pl.DataFrame  # fct_claim_assessment
    shift: pl.DataFrame  # fct_supplier_shift
    chokepoints: pl.DataFrame  # chokepoint products of the latest year, with descriptions
    chokepoint_counts: pl.DataFrame  # chokepoint products per sector in the latest year
    synthetic: bool
    data_source: str

    @property
    def partner_group(self) -> str:
        """The partner group the claims are tested against (fct_claim_assessment.partner_group)."""
        return str(self.claims["partner_group"][0])

    @property
    def reported_years(self) -> list[int]:
        """The years after BACI's last, which come from China's own reports to UN Comtrade (valuation says so)."""
        reported = self.sectors.filter(pl.col("valuation").str.contains("China-reported"))
        return sorted(set(reported["year"].to_list()))

    @property
    def baseline_label(self) -> str:
        return _span(self.trend["baseline_first_year"][0], self.trend["baseline_last_year"][0])

    @property
    def latest_label(self) -> str:
        return _span(self.trend["latest_first_year"][0], self.trend["latest_last_year"][0])


def read_report_data(warehouse: Path) -> ReportData:
    with connect(warehouse, read_only=True) as con:
        claims = con.sql("SELECT * FROM marts.fct_claim_assessment ORDER BY sector").pl()
        group = claims["partner_group"][0] if claims.height else "US+EU"
        sectors = con.sql("SELECT * FROM marts.fct_sector_dependency WHERE basket = ? AND partner_group IN ('US', 'EU27') "
                          "ORDER BY sector, year", params=[BASKET]).pl()
        trend = con.sql("SELECT * FROM marts.fct_self_reliance_trend WHERE basket = ? AND partner_group = ? "
                        "ORDER BY sector", params=[BASKET, group]).pl()
        shift = con.sql("SELECT * FROM marts.fct_supplier_shift ORDER BY sector, abs(share_change_pp) DESC").pl()
        latest = "(SELECT max(year) FROM marts.fct_product_dependency)"
        chokepoints = con.sql(
            f"""SELECT hs6, product_description, sectors, imports_from_world_usd, chokepoint_group_import_share,
                       supplier_hhi, world_export_hhi, supplier_1_name
                FROM marts.fct_product_dependency WHERE is_chokepoint AND year = {latest}
                ORDER BY imports_from_world_usd DESC"""
        ).pl()
        counts = con.sql(
            f"""SELECT DISTINCT sector, chokepoint_product_count FROM marts.fct_sector_dependency
                WHERE basket = ? AND year = {latest} ORDER BY chokepoint_product_count DESC, sector""", params=[BASKET]
        ).pl()
    if sectors.is_empty() or trend.is_empty():
        raise ValueError(f"marts.fct_sector_dependency in {warehouse} has no rows: build the marts first")
    return ReportData(sectors, trend, claims, shift, chokepoints, counts, bool(sectors["is_synthetic"].any()),
                      sectors["data_source"][0])


def write_report(warehouse: Path, target: Path, chokepoint_group: str, stable_pp: float) -> ReportData:
    """Render the report from the marts and write it atomically to `target`."""
    data = read_report_data(warehouse)
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(target, render(data, chokepoint_group, stable_pp).encode("utf-8"))
    return data


def render(data: ReportData, chokepoint_group: str, stable_pp: float) -> str:
    years = data.sectors["year"]
    latest = int(years.max())
    banner = (
        '<div class="synthetic" role="alert">SYNTHETIC SAMPLE: every number in this report is invented '
        "(built with --sample). Its trends were made up to exercise the code: they are not findings. Do not quote it.</div>"
        if data.synthetic else ""
    )
    reported = data.reported_years
    sources = (f"BACI {int(years.min())}-{reported[0] - 1}, China's reports to UN Comtrade {_span(reported[0], reported[-1])} "
               "(imports CIF, codes converted)" if reported else f"BACI {int(years.min())}-{latest}")
    body = "\n".join([
        banner,
        "<h1>China's import dependency on the US and the EU, by sector</h1>",
        f'<p class="meta">Years {int(years.min())}-{latest} ({sources}) &middot; baseline {data.baseline_label} &middot; '
        f"latest {data.latest_label} &middot; headline (full) baskets &middot; {html.escape(data.data_source)} &middot; "
        f"generated {datetime.now(UTC):%Y-%m-%d %H:%M} UTC by tradedep. What each number means: docs/methodology.md.</p>",
        _section_shares(data),
        _section_change(data, stable_pp),
        _section_suppliers(data),
        _section_chokepoints(data, chokepoint_group, latest),
        _section_claims(data),
        banner,
    ])
    title = ("SYNTHETIC SAMPLE - " if data.synthetic else "") + "tradedep report"
    return f"<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>{STYLE}</style></head>\n<body>\n{body}\n</body></html>\n"


def _section_shares(data: ReportData) -> str:
    shares = data.sectors.with_columns(pl.col("partner_import_share").fill_null(0.0))
    y_top = _nice_top(float(shares["partner_import_share"].max() or 0))
    baseline = (int(data.trend["baseline_first_year"][0]), int(data.trend["baseline_last_year"][0]))
    reported = (data.reported_years[0], data.reported_years[-1]) if data.reported_years else None
    panels, table_rows = [], []
    for (sector,), rows in shares.group_by("sector", maintain_order=True):
        series = {group: list(zip(part["year"].to_list(), part["partner_import_share"].to_list(), strict=True))
                  for (group,), part in rows.sort("year").group_by("partner_group", maintain_order=True)}
        title = f"{sector}: share of China's imports from the US and the EU27, %"
        panels.append(f'<figure class="panel"><figcaption>{html.escape(sector)}</figcaption>'
                      f"{line_chart(series, y_top, baseline, title, reported=reported)}</figure>")
        table_rows += [[sector, str(year), *(_percent(dict(series[g]).get(year), 1) for g in ("US", "EU27"))]
                       for year in sorted({x for values in series.values() for x, _ in values})]
    return (f"<h2>Share of China's imports from the US and the EU27, by sector and year</h2>"
            f"<p>Partner share of the sector's imports from the world, in per cent, on one scale for every panel "
            f"(fct_sector_dependency.partner_import_share, full basket). The shaded band is the baseline window "
            f"{data.baseline_label}"
            + (f"; the hatched years {_span(*reported)} come from China's own reports to UN Comtrade (imports CIF, a few "
               "per cent above BACI's FOB: fct_source_overlap), not from BACI" if reported else "")
            + f". {_legend(['US', 'EU27'])}</p>"
            f'<div class="panels">{"".join(panels)}</div>'
            + _details(_table(["sector", "year", "US share", "EU27 share"], table_rows, numeric={2, 3})))


def _section_change(data: ReportData, stable_pp: float) -> str:
    rows = data.trend.filter(pl.col("partner_import_share_change_pp").is_not_null()).sort("partner_import_share_change_pp")
    group = html.escape(data.partner_group)
    latest_sources = str(data.trend["latest_window_sources"][0] or "")
    reported_note = (" The latest window reaches into the years from China's own reports (CIF); fct_source_overlap shows "
                     "how much of a change at the splice comes from the sources alone." if "Comtrade" in latest_sources else "")
    bars = [(row["sector"], row["partner_import_share_change_pp"], CLASS_COLOURS.get(row["measured_direction"], "#444"))
            for row in rows.iter_rows(named=True)]
    axis = f"change in the {data.partner_group} share of imports, percentage points ({data.baseline_label} to {data.latest_label})"
    table = _table(["sector", f"{group} share {data.baseline_label}", f"share {data.latest_label}", "change (pp)", "class",
                    "basket changed meaning in"],
                   [[row["sector"], _percent(row["partner_import_share_baseline"], 1), _percent(row["partner_import_share_latest"], 1),
                     _signed(row["partner_import_share_change_pp"]), row["measured_direction"] or "", row["basket_break_years"] or ""]
                    for row in rows.iter_rows(named=True)], numeric={1, 2, 3})
    legend = " ".join(f'<span class="key" style="border-color:{colour}">{name}</span>' for name, colour in CLASS_COLOURS.items())
    return (f"<h2>Change in the {group} share of China's imports, {data.baseline_label} to {data.latest_label}</h2>"
            f"<p>Mean share over the latest window minus the mean over the baseline window "
            f"(fct_self_reliance_trend.partner_import_share_change_pp). Bars are coloured by class: a change within the shaded "
            f"band of &plusmn;{stable_pp:g} pp is stable.{reported_note} {legend}</p>"
            + bar_chart(bars, axis_label=axis, unit="pp", band=stable_pp,
                        title=f"Change in the {data.partner_group} share of imports by sector, pp")
            + _details(table))


def _section_suppliers(data: ReportData) -> str:
    panels, table_rows = [], []
    for (sector,), rows in data.shift.group_by("sector", maintain_order=True):
        top = rows.head(SUPPLIERS_PER_SECTOR)
        bars = [(row["supplier_name"] or str(row["supplier_code"]), row["share_change_pp"], _supplier_colour(row["supplier_partner_groups"]))
                for row in top.iter_rows(named=True)]
        panels.append(f'<figure class="panel wide"><figcaption>{html.escape(sector)}</figcaption>'
                      + bar_chart(bars, axis_label="change in share of the sector's imports, pp", unit="pp",
                                  title=f"{sector}: suppliers whose share changed most, pp", width=420, label_width=150)
                      + "</figure>")
        table_rows += [[sector, row["supplier_name"] or str(row["supplier_code"]), _percent(row["baseline_import_share"], 1),
                        _percent(row["latest_import_share"], 1), _signed(row["share_change_pp"]), row["supplier_partner_groups"] or ""]
                       for row in top.iter_rows(named=True)]
    legend = _legend(["US", "EU27"]) + '<span class="key" style="border-color:#55607a">others</span>'
    return (f"<h2>Who replaced the US and the EU: suppliers whose share changed most, {data.baseline_label} to {data.latest_label}</h2>"
            f"<p>Per sector, the {SUPPLIERS_PER_SECTOR} suppliers whose mean share of China's imports changed most between "
            f"the two windows (fct_supplier_shift.share_change_pp); Taiwan is BACI's 'Other Asia, nes'. {legend}</p>"
            f'<div class="panels">{"".join(panels)}</div>'
            + _details(_table(["sector", "supplier", f"share {data.baseline_label}", f"share {data.latest_label}", "change (pp)",
                               "partner groups"], table_rows, numeric={2, 3, 4})))


def _section_chokepoints(data: ReportData, chokepoint_group: str, latest: int) -> str:
    counts = data.chokepoint_counts.filter(pl.col("chokepoint_product_count").is_not_null())
    bars = [(row["sector"], float(row["chokepoint_product_count"]), "#55607a") for row in counts.iter_rows(named=True)]
    if counts.is_empty():
        chart = f"<p>Persistence is not known in {latest}: the build holds fewer years than the persistence window.</p>"
    elif not any(value for _, value, _ in bars):
        chart = "<p>No chokepoint products in any sector.</p>"
    else:
        chart = bar_chart(bars, axis_label=f"chokepoint products in {latest}, count", unit="",
                          title=f"Chokepoint products per sector, {latest}")
    products = _table(
        ["HS6", "product", "sectors", "imports (USD m)", f"{chokepoint_group} share", "largest supplier", "supplier HHI",
         "world-export HHI"],
        [[row["hs6"], row["product_description"] or "", row["sectors"] or "", f"{row['imports_from_world_usd'] / 1e6:,.1f}",
          _percent(row["chokepoint_group_import_share"]), row["supplier_1_name"] or "", f"{row['supplier_hhi']:.2f}",
          f"{row['world_export_hhi']:.2f}"] for row in data.chokepoints.head(CHOKEPOINT_ROWS).iter_rows(named=True)],
        numeric={3, 4, 6, 7})
    shown = (f"the {CHOKEPOINT_ROWS} largest of {data.chokepoints.height}" if data.chokepoints.height > CHOKEPOINT_ROWS
             else f"all {data.chokepoints.height}")
    return (f"<h2>Chokepoint products in {latest}</h2>"
            f"<p>Products where China is persistently dependent (concentrated suppliers, concentrated world supply, imports "
            f"above exports, in 2 of 3 years: the GeoDep screen) and the {html.escape(chokepoint_group)} share of its imports is "
            f"above the threshold (fct_product_dependency.is_chokepoint), counted per sector's full basket.</p>{chart}"
            + _details(_table(["sector", "chokepoint products"], [[s, f"{v:.0f}"] for s, v, _ in bars], numeric={1}))
            + f"<p>Products by imports, {shown}:</p>{products}")


def _section_claims(data: ReportData) -> str:
    verdicts = {"consistent": "pass", "partly consistent": "partly", "not consistent": "fail"}
    rows = [
        [row["sector"], row["claim_quote"] + ("" if row["quote_is_verbatim"] in (True, None) else " (paraphrase)"),
         row["claim_type"] or "",
         _test(row["level_test"], row["level_test_passed"]), _test(row["change_test"], row["change_test_passed"]),
         f"{_percent(row['partner_import_share_baseline'], 1)} to {_percent(row['partner_import_share_latest'], 1)} "
         f"({_signed(row['partner_import_share_change_pp'])} pp)" if row["has_claim"] else "",
         _signed(row["normalised_trade_balance_latest"], 2) if row["has_claim"] else "",
         _percent(row["dependent_import_share_latest"], 1) if row["has_claim"] else "",
         row["verdict"] + (" (basket changed meaning)" if row["basket_meaning_changed"] and row["has_claim"] else "")]
        for row in data.claims.sort(["has_claim", "sector"], descending=[True, False]).iter_rows(named=True)
    ]
    table = _table(["sector", "what the article says", "claim as a test", "level test", "change test",
                    f"{data.partner_group} share", "trade balance (latest)", "dependent share (latest)", "verdict"],
                   rows, numeric={6, 7}, row_classes=[verdicts.get(row[-1].split(" (")[0], "") for row in rows])
    caveat = (" On this synthetic sample the verdicts test invented numbers: they say nothing about China."
              if data.synthetic else "")
    return (f"<h2>The article's claims, tested</h2><p>Each claim of the seed article becomes a test on the level reached "
            f"({data.latest_label}) and one on the change since {data.baseline_label}, on the full basket against the "
            f"{html.escape(data.partner_group)} share (fct_claim_assessment; thresholds are dbt vars). Sectors the article "
            f"does not speak about have no claim.{caveat}</p>{table}")


def line_chart(series: dict[str, list[tuple[int, float]]], y_top: float, band: tuple[int, int] | None, title: str,
               width: int = 320, height: int = 190, reported: tuple[int, int] | None = None) -> str:
    """Lines of y in [0, y_top] over years, on a shared scale: gridlines, a tick per year (every other one when
    crowded), the value at each line's end, a shaded band (the baseline window) and a hatched one (the years from
    China's own reports rather than BACI), each labelled on the chart."""
    points = [point for values in series.values() for point in values]
    if not points:
        return '<p class="empty">no data</p>'
    left, right, top_pad, bottom = 40, 34, 14, 34
    xs = sorted({x for x, _ in points})
    x_min, x_max = xs[0], xs[-1]

    def sx(x: float) -> float:
        return left + (x - x_min) / max(x_max - x_min, 1) * (width - left - right)

    def sy(y: float) -> float:
        return height - bottom - y / y_top * (height - bottom - top_pad)

    parts = [f"<title>{html.escape(title)}</title>"]
    if band and band[1] >= x_min and band[0] <= x_max:
        x0, x1 = sx(max(band[0], x_min)) - 4, sx(min(band[1], x_max)) + 4
        parts += [f'<rect class="band" x="{x0:.1f}" y="{top_pad}" width="{x1 - x0:.1f}" height="{sy(0) - top_pad:.1f}"/>',
                  f'<text class="band-label" x="{x0 + 2:.1f}" y="{top_pad + 9}">baseline</text>']
    if reported and reported[1] >= x_min:
        x0, x1 = sx(max(reported[0], x_min)) - 4, sx(min(reported[1], x_max)) + 4
        parts += [f'<rect class="reported" x="{x0:.1f}" y="{top_pad}" width="{x1 - x0:.1f}" height="{sy(0) - top_pad:.1f}"/>',
                  f'<text class="band-label" x="{x1 - 2:.1f}" y="{top_pad + 9}" text-anchor="end">China-reported</text>']
    for tick in _ticks(y_top):
        parts += [f'<line class="grid" x1="{left}" y1="{sy(tick):.1f}" x2="{width - right}" y2="{sy(tick):.1f}"/>',
                  f'<text x="{left - 4}" y="{sy(tick) + 4:.1f}" text-anchor="end">{tick:.0%}</text>']
    step = 1 if len(xs) <= 7 else 2
    ticks = [x for i, x in enumerate(xs) if i % step == 0 and x_max - x >= step] + [x_max]  # the last year always
    parts += [f'<text x="{sx(x):.1f}" y="{height - bottom + 14}" text-anchor="middle">{x}</text>' for x in ticks]
    parts += [f'<line class="axis" x1="{left}" y1="{sy(0):.1f}" x2="{width - right}" y2="{sy(0):.1f}"/>',
              f'<text class="axis-label" x="{(left + width - right) / 2:.0f}" y="{height - 4}" text-anchor="middle">year</text>',
              f'<text class="axis-label" transform="translate(11,{(top_pad + sy(0)) / 2:.0f}) rotate(-90)" '
              f'text-anchor="middle">% of imports</text>']
    for name, values in series.items():
        path = " ".join(f"{'M' if i == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for i, (x, y) in enumerate(values))
        colour = PARTNER_COLOURS.get(name, "#444")
        end_x, end_y = values[-1]
        parts += [f'<path class="series" d="{path}" stroke="{colour}"><title>{html.escape(name)}</title></path>',
                  f'<text class="end" x="{sx(end_x) + 3:.1f}" y="{sy(end_y) + 4:.1f}" fill="{colour}">{end_y:.0%}</text>']
    return (f'<svg class="chart" role="img" aria-label="{html.escape(title)}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}">{"".join(parts)}</svg>')


def bar_chart(bars: list[tuple[str, float, str]], axis_label: str, unit: str, title: str, band: float | None = None,
              width: int = 760, label_width: int = 230) -> str:
    """Horizontal bars (label, value, colour) from a zero line, with a labelled value axis, the value at each bar's
    end, and optionally a shaded band of +-band around zero (labelled on the chart)."""
    if not bars:
        return '<p class="empty">no data</p>'
    row, pad, top, bottom = 22, 60, 16, 34
    height = top + row * len(bars) + bottom
    extent = max([abs(value) for _, value, _ in bars] + [band or 0]) or 1
    has_negative = any(value < 0 for _, value, _ in bars)
    zero = label_width + ((width - label_width) / 2 if has_negative else pad / 2)
    scale = ((width - label_width) / 2 - pad if has_negative else width - label_width - pad * 1.5) / extent
    axis_y = top + row * len(bars)
    parts = [f"<title>{html.escape(title)}</title>"]
    if band:
        parts += [f'<rect class="band" x="{zero - band * scale:.1f}" y="{top - 4}" width="{2 * band * scale:.1f}" '
                  f'height="{axis_y - top + 4}"/>',
                  f'<text class="band-label" x="{zero:.1f}" y="{top - 6}" text-anchor="middle">stable band &#177;{band:g} {unit}</text>']
    parts.append(f'<line class="axis" x1="{zero:.1f}" y1="{top - 4}" x2="{zero:.1f}" y2="{axis_y}"/>')
    for index, (name, value, colour) in enumerate(bars):
        y = top + index * row
        x0, x1 = sorted((zero, zero + value * scale))
        text = f"{value:+.1f} {unit}".strip() if unit else f"{value:.0f}"
        text_x, anchor = (x0 - 4, "end") if value < 0 else (x1 + 4, "start")
        parts += [f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end">{html.escape(name)}</text>',
                  f'<rect class="bar" x="{x0:.1f}" y="{y + 3}" width="{max(x1 - x0, 1):.1f}" height="{row - 6}" fill="{colour}">'
                  f"<title>{html.escape(name)}: {text}</title></rect>",
                  f'<text x="{text_x:.1f}" y="{y + 15}" text-anchor="{anchor}">{text}</text>']
    parts += [f'<line class="axis" x1="{label_width}" y1="{axis_y}" x2="{width - 4}" y2="{axis_y}"/>',
              f'<text class="axis-label" x="{(label_width + width) / 2:.0f}" y="{height - 6}" text-anchor="middle">'
              f"{html.escape(axis_label)}</text>"]
    return (f'<svg class="chart" role="img" aria-label="{html.escape(title)}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}">{"".join(parts)}</svg>')


def _nice_top(value: float) -> float:
    """The smallest of 10%, 20%, ..., 100% at or above value."""
    return min(1.0, max(0.1, -(-value * 10 // 1) / 10))


def _ticks(y_top: float) -> list[float]:
    """Gridlines every 10 points up to 50%, every 20 above."""
    step = 0.1 if y_top <= 0.5 else 0.2
    return [round(step * i, 2) for i in range(int(round(y_top / step)) + 1)]


def _supplier_colour(groups: str | None) -> str:
    names = (groups or "").split("; ")
    return PARTNER_COLOURS["US"] if "US" in names else PARTNER_COLOURS["EU27"] if "EU27" in names else "#55607a"


def _legend(groups: list[str]) -> str:
    return " ".join(f'<span class="key" style="border-color:{PARTNER_COLOURS[g]}">{g}</span>' for g in groups)


def _details(table: str) -> str:
    return f"<details><summary>The numbers behind the chart</summary>{table}</details>"


def _table(header: list[str], rows: list[list[str]], numeric: set[int], row_classes: list[str] | None = None) -> str:
    head = "".join(f"<th>{html.escape(name)}</th>" for name in header)
    body = "".join(
        f'<tr{f" class={row_classes[r]}" if row_classes and row_classes[r] else ""}>'
        + "".join(f'<td{" class=num" if i in numeric else ""}>{html.escape(str(cell))}</td>' for i, cell in enumerate(row))
        + "</tr>"
        for r, row in enumerate(rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _test(description: str | None, passed: bool | None) -> str:
    if description is None:
        return ""
    return f"{description}: {'passed' if passed else 'failed' if passed is False else 'no data'}"


def _span(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


def _percent(value: float | None, digits: int = 0) -> str:
    return "" if value is None else f"{value:.{digits}%}"


def _signed(value: float | None, digits: int = 1) -> str:
    return "" if value is None else f"{value:+.{digits}f}"


STYLE = """
body { font-family: system-ui, -apple-system, sans-serif; margin: 2rem auto; max-width: 1400px; color: #222; padding: 0 1rem; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.2rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #555; }
.synthetic { background: #a51d1d; color: #fff; font-weight: bold; font-size: 1.2rem; padding: 0.8rem 1rem; margin: 1rem 0; border-radius: 4px; }
.panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 0.8rem; }
.panel { margin: 0; border: 1px solid #e3e3e3; padding: 0.3rem; }
.panel.wide { grid-column: span 1; }
figcaption { font-size: 0.85rem; font-weight: 600; }
svg.chart { max-width: 100%; height: auto; }
svg.chart text { font-size: 11px; fill: #444; }
svg.chart .axis { stroke: #999; } svg.chart .grid { stroke: #eee; }
svg.chart .band { fill: #f1efe6; } svg.chart .band-label { font-size: 10px; fill: #8a7f55; }
svg.chart .reported { fill: #e6ecf3; stroke: #b8c6d8; stroke-dasharray: 3 2; }
svg.chart .axis-label { font-size: 10px; fill: #666; } svg.chart .end { font-size: 10px; font-weight: 600; }
svg.chart .series { fill: none; stroke-width: 2; }
.key { border-left: 14px solid; padding-left: 4px; margin-right: 0.8rem; }
details { margin: 0.3rem 0 1rem; } summary { cursor: pointer; color: #1f5fa8; }
table { border-collapse: collapse; font-size: 0.85rem; margin: 0.5rem 0 1rem; }
td, th { border: 1px solid #ddd; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.pass td:last-child { color: #17632a; font-weight: 600; } tr.fail td:last-child { color: #a51d1d; font-weight: 600; }
tr.partly td:last-child { color: #8a6100; font-weight: 600; }
"""
