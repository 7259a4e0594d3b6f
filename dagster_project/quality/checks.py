"""Great Expectations suites as blocking Dagster asset checks."""


from collections.abc import Callable
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from dagster_project import fingerprints
from dagster_project.assets.resources import WRITE_LOCK
from dagster_project.quality import mart_suites, raw_suites
from dagster_project.quality.gx_runner import ExpectationOutcome, SuiteOutcome
from dagster_project.quality.results_page import record_outcome
from dagster_project.settings import Settings
from dagster_project.warehouse import connect, holds_sample


def check_result(outcome: SuiteOutcome, quality_dir: Path, synthetic: bool) -> dg.AssetCheckResult:
    """Turn a suite outcome into a check result that lists each failed expectation with samples and a few
    whole offending rows, and record it on the results page (which says whether the data was the synthetic
    sample) linked from the metadata."""
    page = record_outcome(quality_dir, outcome, synthetic)
    offending = offending_rows_markdown(outcome.failures)
    return dg.AssetCheckResult(
        passed=outcome.success,
        severity=dg.AssetCheckSeverity.ERROR,
        description=outcome.summary(),
        metadata={
            **({"sample_offending_rows": dg.MetadataValue.md(offending)} if offending else {}),
            "results_page": dg.MetadataValue.path(str(page)),
            "rows_validated": dg.MetadataValue.int(outcome.row_count),
            "expectations": dg.MetadataValue.int(len(outcome.outcomes)),
            "failed_expectations": dg.MetadataValue.int(len(outcome.failures)),
            "failures": dg.MetadataValue.json(
                [
                    {
                        "expectation": failure.expectation,
                        "column": failure.column,
                        "unexpected_count": failure.unexpected_count,
                        "sample": failure.sample,
                        "error": failure.error,
                        "rows": failure.rows,
                    }
                    for failure in outcome.failures
                ]
            ),
        },
    )


def offending_rows_markdown(failures: list[ExpectationOutcome]) -> str:
    """A Markdown table of the sample offending rows of each failed expectation that has them."""
    sections = []
    for failure in failures:
        if not failure.rows:
            continue
        columns = list(failure.rows[0])
        target = f" on `{failure.column}`" if failure.column else ""
        sections.append("\n".join([
            f"**{failure.expectation}**{target}: {failure.unexpected_count} unexpected, the first {len(failure.rows)}:",
            "",
            "| " + " | ".join(columns) + " |",
            "|" + " --- |" * len(columns),
            *("| " + " | ".join(_markdown_cell(row.get(column)) for column in columns) + " |" for row in failure.rows),
        ]))
    return "\n\n".join(sections)


def _markdown_cell(value: object) -> str:
    return "NULL" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def table_check(settings: Settings, suite: raw_suites.TableSuite, asset_key: dg.AssetKey) -> dg.AssetChecksDefinition:
    """A table's suite as a blocking check: what depends on the table waits for it."""

    @dg.asset_check(
        asset=asset_key,
        name=f"gx_{suite.name}",
        blocking=True,
        required_resource_keys={WRITE_LOCK},
        description=f"Great Expectations suite {suite.name} on {suite.table}.",
    )
    def gx_table_check(context: dg.AssetCheckExecutionContext) -> dg.AssetCheckResult:
        return evaluate(settings, suite, context.run.run_id)

    return gx_table_check


def evaluate(settings: Settings, suite: raw_suites.TableSuite, run_id: str) -> dg.AssetCheckResult:
    """Validate the suite, unless it passed on exactly this data (same fingerprint) before: then say so and
    pass again without reading the rows. A failed or unrunnable suite is always validated again."""
    step = f"gx_{suite.name}"
    fingerprint = fingerprint_or_none(settings, suite)
    if fingerprint is not None and not settings.force:
        with connect(settings.warehouse_path, read_only=True) as con:
            last = fingerprints.recorded(con, step)
        if last is not None and last[0] == fingerprint:
            return reused_result(suite, last[1], settings.quality_dir)
    outcome = run_guarded(suite.name, lambda: raw_suites.validate(settings, suite))
    with fingerprints.records_only(settings.warehouse_path), connect(settings.warehouse_path) as con:
        if outcome.success and fingerprint is not None:
            detail = {"run_id": run_id, "rows": outcome.row_count, "expectations": len(outcome.outcomes)}
            fingerprints.record(con, step, fingerprint, detail)
        else:
            fingerprints.forget(con, step)
        synthetic = holds_sample(con)
    return check_result(outcome, settings.quality_dir, synthetic)


def fingerprint_or_none(settings: Settings, suite: raw_suites.TableSuite) -> str | None:
    """The suite's fingerprint; None when it cannot be computed (e.g. a missing table), so the suite runs
    and reports the problem itself."""
    try:
        return raw_suites.fingerprint(settings, suite)
    except Exception:
        return None


def reused_result(suite: raw_suites.TableSuite, last: dict, quality_dir: Path) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=True,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(f"{suite.name}: unchanged since it passed in run {last['run_id']} ({last['recorded_at']}): "
                     f"the same {last['rows']} rows and {last['expectations']} expectations, so not validated again"),
        metadata={
            "validated_again": False,
            "passed_in_run": dg.MetadataValue.text(last["run_id"]),
            "passed_at": dg.MetadataValue.text(last["recorded_at"]),
            "results_page": dg.MetadataValue.path(str(quality_dir / "index.html")),
            "rows_validated": dg.MetadataValue.int(last["rows"]),
            "expectations": dg.MetadataValue.int(last["expectations"]),
            "failed_expectations": dg.MetadataValue.int(0),
        },
    )


def run_guarded(name: str, validate: Callable[[], SuiteOutcome]) -> SuiteOutcome:
    """Run a suite; one that cannot run (missing table, GX error) fails, it never passes."""
    try:
        return validate()
    except Exception as error:
        cause = f"{type(error).__name__}: {error}"
        return SuiteOutcome(name, 0, [ExpectationOutcome("suite could not run", None, False, error=cause)])


def build_quality_checks(settings: Settings, dbt_assets_def: dg.AssetsDefinition) -> list[dg.AssetChecksDefinition]:
    raw_checks = [
        table_check(settings, suite, dg.AssetKey(suite.table.split("."))) for suite in raw_suites.enabled_suites(settings)
    ]
    # Mart keys come from dagster-dbt itself: a check on a guessed key would silently never run.
    mart_checks = [
        table_check(settings, suite, get_asset_key_for_model([dbt_assets_def], suite.table.split(".")[1]))
        for suite in mart_suites.enabled_suites(settings)
    ]
    return [*raw_checks, *mart_checks]
