"""Great Expectations suites as blocking Dagster asset checks."""


from collections.abc import Callable
from pathlib import Path

import dagster as dg
from dagster_dbt import get_asset_key_for_model

from dagster_project.quality import mart_suites, raw_suites
from dagster_project.quality.gx_runner import ExpectationOutcome, SuiteOutcome
from dagster_project.quality.results_page import record_outcome
from dagster_project.settings import Settings


def check_result(outcome: SuiteOutcome, quality_dir: Path) -> dg.AssetCheckResult:
    """Turn a suite outcome into a check result that lists each failed expectation with samples and a few
    whole offending rows, and record it on the results page linked from the metadata."""
    page = record_outcome(quality_dir, outcome)
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


def validate_sector_dependency(settings: Settings) -> SuiteOutcome:
    """Run the fct_sector_dependency suite against the warehouse (read-only)."""
    return raw_suites.validate(settings, mart_suites.SECTOR_DEPENDENCY)


def table_check(settings: Settings, suite: raw_suites.TableSuite, asset_key: dg.AssetKey) -> dg.AssetChecksDefinition:
    """A table's suite as a blocking check: what depends on the table waits for it."""

    @dg.asset_check(
        asset=asset_key,
        name=f"gx_{suite.name}",
        blocking=True,
        description=f"Great Expectations suite {suite.name} on {suite.table}.",
    )
    def gx_table_check() -> dg.AssetCheckResult:
        return check_result(run_guarded(suite.name, lambda: raw_suites.validate(settings, suite)), settings.quality_dir)

    return gx_table_check


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
