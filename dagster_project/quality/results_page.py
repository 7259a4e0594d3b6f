"""A static HTML page of the latest validation results (the project's equivalent of GX Data Docs).

Each suite's outcome is kept as JSON under <data dir>/quality/; index.html is rewritten from all of them,
so one self-contained page (no network needed) shows every suite's latest result and what failed.
"""

from __future__ import annotations

import html
import json
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from dagster_project.quality.gx_runner import SuiteOutcome
from dagster_project.sources.landing import write_atomic


def record_outcome(quality_dir: Path, outcome: SuiteOutcome) -> Path:
    """Store the suite's outcome and rewrite the page; returns the page's path."""
    quality_dir.mkdir(parents=True, exist_ok=True)
    result = {"validated_at": datetime.now(UTC).isoformat(timespec="seconds"), "success": outcome.success,
              **asdict(outcome)}
    write_atomic(quality_dir / f"{outcome.suite}.json", json.dumps(result, indent=2, default=str).encode("utf-8"))
    return rewrite_page(quality_dir)[0]


def rewrite_page(quality_dir: Path) -> tuple[Path, list[dict]]:
    """Rewrite index.html from every suite's stored outcome; returns the page and those outcomes."""
    quality_dir.mkdir(parents=True, exist_ok=True)
    results = [json.loads(path.read_text(encoding="utf-8")) for path in sorted(quality_dir.glob("*.json"))]
    page = quality_dir / "index.html"
    write_atomic(page, render(results).encode("utf-8"))
    return page, results


def render(results: list[dict]) -> str:
    failed = sum(not result["success"] for result in results)
    sections = "\n".join(_section(result) for result in results)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>tradedep data quality</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
table {{ border-collapse: collapse; margin-bottom: 1.5rem; }}
td, th {{ border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }}
.pass {{ color: #17632a; }} .fail {{ color: #a51d1d; font-weight: bold; }}
table.rows {{ margin: 0.25rem 0 0; font-size: 0.85em; }}
</style></head><body>
<h1>tradedep data quality: latest results</h1>
<p>{len(results)} suites, <span class="{'fail' if failed else 'pass'}">{failed} failing</span>.</p>
{sections}
</body></html>
"""


def _section(result: dict) -> str:
    status = "pass" if result["success"] else "fail"
    rows = "\n".join(
        "<tr><td class='{cls}'>{state}</td><td>{name}</td><td>{column}</td><td>{count}</td><td>{detail}</td></tr>".format(
            cls="pass" if item["success"] else "fail",
            state="passed" if item["success"] else "FAILED",
            name=html.escape(item["expectation"]),
            column=html.escape(str(item["column"] or "")),
            count="" if item["unexpected_count"] is None else item["unexpected_count"],
            detail=html.escape(item["error"] or (json.dumps(item["sample"], default=str) if item["sample"] else ""))
            + _rows_table(item.get("rows") or []),
        )
        for item in result["outcomes"]
    )
    return f"""<h2 class="{status}">{html.escape(result['suite'])}: {status}ed</h2>
<p>{result['row_count']} rows validated at {html.escape(result['validated_at'])}.</p>
<table><tr><th>result</th><th>expectation</th><th>column</th><th>unexpected</th><th>details</th></tr>
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
