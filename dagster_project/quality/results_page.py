"""A static HTML page of the latest validation results (the project's equivalent of GX Data Docs).

Each suite's outcome is kept as JSON under <data dir>/quality/; index.html is rewritten from all of them,
so one self-contained page (no network needed) shows every suite's latest result and what failed: a banner when
the data validated was the synthetic sample, a summary table, then each suite (raw tables first, then the
marts, in the order the build checks them) with what each expectation checked in words ("value >= 0").
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.quality.gx_runner import SuiteOutcome
from dagster_project.files import write_atomic


SYNTHETIC_BANNER = "SYNTHETIC SAMPLE: these suites validated invented numbers, not real trade data."


def record_outcome(quality_dir: Path, outcome: SuiteOutcome, synthetic: bool) -> Path:
    """Store the suite's outcome, and whether the data it validated was the synthetic sample, then rewrite the
    page; returns the page's path."""
    quality_dir.mkdir(parents=True, exist_ok=True)
    result = {"validated_at": datetime.now(UTC).isoformat(timespec="seconds"), "success": outcome.success,
              "synthetic": synthetic, **asdict(outcome)}
    write_atomic(quality_dir / f"{outcome.suite}.json", json.dumps(result, indent=2, default=str).encode("utf-8"))
    return rewrite_page(quality_dir)[0]


def rewrite_page(quality_dir: Path) -> tuple[Path, list[dict]]:
    """Rewrite index.html from every suite's stored outcome; returns the page and those outcomes."""
    quality_dir.mkdir(parents=True, exist_ok=True)
    results = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(quality_dir.glob("*.json"))]
    page = quality_dir / "index.html"
    write_atomic(page, render(results).encode("utf-8"))
    return page, results


def suite_layers() -> dict[str, tuple[str, str]]:
    """Suite name -> (layer, table), raw suites first, each list in the order the build checks it."""
    from dagster_project.quality import mart_suites, raw_suites  # they import the warehouse code

    return {**{suite.name: ("Raw tables", suite.table) for suite in raw_suites.RAW_SUITES},
            **{suite.name: ("Marts", suite.table) for suite in mart_suites.MART_SUITES}}


def render(results: list[dict]) -> str:
    """The page: a banner when any suite validated the synthetic sample, a summary table, then each suite."""
    layers = suite_layers()
    order = list(layers)
    results = sorted(results, key=lambda r: (order.index(r["suite"]) if r["suite"] in layers else len(order), r["suite"]))
    synthetic = sum(bool(result.get("synthetic")) for result in results)
    banner = (f'<p class="synthetic" role="alert">{SYNTHETIC_BANNER} ({synthetic} of {len(results)} suites).</p>'
              if synthetic else "")
    sections, layer = [], None
    for result in results:
        if layers.get(result["suite"], ("Other suites",))[0] != layer:
            layer = layers.get(result["suite"], ("Other suites",))[0]
            sections.append(f"<h2>{layer}</h2>")
        sections.append(_section(result))
    title = ("SYNTHETIC SAMPLE - " if synthetic else "") + "tradedep data quality"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}
td, th {{ border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }}
td.n {{ text-align: right; }}
.pass {{ color: #17632a; }} .fail {{ color: #a51d1d; font-weight: bold; }}
.synthetic {{ background: #a51d1d; color: #fff; padding: 0.75rem 1rem; font-weight: bold; }}
table.rows {{ margin: 0.25rem 0 0; font-size: 0.85em; }}
</style></head><body>
{banner}
<h1>tradedep data quality: latest results</h1>
{_summary(results, layers)}
{"".join(sections)}
</body></html>
"""


def _summary(results: list[dict], layers: dict[str, tuple[str, str]]) -> str:
    """One row per suite (its table, result, expectations, failures, rows, time) and the totals."""
    rows = "\n".join(
        "<tr><td><a href='#{suite}'>{suite}</a></td><td>{table}</td><td class='{cls}'>{state}</td><td class='n'>{count}</td>"
        "<td class='n {cls}'>{failed}</td><td class='n'>{rows:,}</td><td>{at}</td></tr>".format(
            suite=html.escape(result["suite"]), table=html.escape(layers.get(result["suite"], ("", ""))[1]),
            cls="pass" if result["success"] else "fail", state="passed" if result["success"] else "FAILED",
            count=len(result["outcomes"]), failed=sum(not item["success"] for item in result["outcomes"]),
            rows=result["row_count"], at=html.escape(result["validated_at"]))
        for result in results
    )
    failed = sum(not result["success"] for result in results)
    expectations = sum(len(result["outcomes"]) for result in results)
    failures = sum(not item["success"] for result in results for item in result["outcomes"])
    return f"""<p>{len(results)} suites, {expectations} expectations:
<span class="{'fail' if failed else 'pass'}">{failed} suites failing</span>, {failures} failed expectations.</p>
<table class="summary"><tr><th>suite</th><th>table</th><th>result</th><th>expectations</th><th>failed</th><th>rows</th>
<th>validated at (UTC)</th></tr>
{rows}
</table>"""


def _section(result: dict) -> str:
    status = "pass" if result["success"] else "fail"
    rows = "\n".join(
        "<tr><td class='{cls}'>{state}</td><td>{column}</td><td>{checked}</td><td>{name}</td><td>{count}</td><td>{detail}</td></tr>".format(
            cls="pass" if item["success"] else "fail",
            state="passed" if item["success"] else "FAILED",
            column=html.escape(str(item["column"] or "(table)")),
            checked=html.escape(item.get("checked") or ""),
            name=html.escape(item["expectation"]),
            count="" if item["unexpected_count"] is None else item["unexpected_count"],
            detail=html.escape(item["error"] or (json.dumps(item["sample"], default=str) if item["sample"] else ""))
            + _rows_table(item.get("rows") or []),
        )
        for item in result["outcomes"]
    )
    data = " Data: the synthetic sample." if result.get("synthetic") else ""
    return f"""<h3 id="{html.escape(result['suite'])}" class="{status}">{html.escape(result['suite'])}: {status}ed</h3>
<p>{result['row_count']:,} rows validated at {html.escape(result['validated_at'])}.{data}</p>
<table><tr><th>result</th><th>column</th><th>checked</th><th>expectation</th><th>unexpected</th><th>details</th></tr>
{rows}
</table>"""


def _rows_table(rows: list[dict]) -> str:
    """A few whole offending rows of a failed expectation, as a small table."""
    if not rows:
        return ""
    columns = list(rows[0])
    head = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape('NULL' if row.get(c) is None else str(row.get(c)))}</td>" for c in columns)
        + "</tr>"
        for row in rows
    )
    return f"<table class='rows'><tr>{head}</tr>{body}</table>"
