"""What analysts take away: the BI exports, the HTML report and the data-quality page.

All three sit downstream of the marts, whose quality checks are blocking: when a check fails,
nothing is exported and no report is written from the failing data.
"""

import dagster as dg

from dagster_project import exports, report
from dagster_project.assets.common import synthetic_metadata
from dagster_project.assets.dbt import DBT_PROJECT
from dagster_project.assets.resources import WRITE_LOCK
from dagster_project.quality.results_page import rewrite_page
from dagster_project.settings import Settings

EXPORTS_KEY = dg.AssetKey(["exports", "mart_files"])
REPORT_KEY = dg.AssetKey(["report", "dependency_report"])
QUALITY_PAGE_KEY = dg.AssetKey(["quality", "validation_results_page"])


def build_output_assets(settings: Settings, dbt_assets_def: dg.AssetsDefinition) -> list[dg.AssetsDefinition]:
    marts = [key for key, group in dbt_assets_def.group_names_by_key.items() if group == "marts"]
    synthetic = synthetic_metadata(settings.sample)

    @dg.asset(
        key=EXPORTS_KEY,
        deps=marts,
        required_resource_keys={WRITE_LOCK},
        group_name="exports",
        kinds={"duckdb", "parquet", "csv"},
        description=(
            f"Every mart as Parquet and CSV in {settings.exports_dir} (stable names: <mart>.parquet, <mart>.csv), "
            "with data_dictionary.md/.json generated from the dbt docs. Each file is renamed into place when "
            "complete, so BI tools never read half a file. Runs only when the marts' checks passed."
        ),
    )
    def mart_files(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        written = exports.export_marts(settings.warehouse_path, settings.exports_dir, DBT_PROJECT.manifest_path)
        context.log.info(f"{len(written)} marts exported to {settings.exports_dir}")
        return dg.MaterializeResult(metadata={
            **synthetic,
            "folder": dg.MetadataValue.path(str(settings.exports_dir)),
            "data_dictionary": dg.MetadataValue.path(str(settings.exports_dir / f"{exports.DICTIONARY_NAME}.md")),
            "rows_by_mart": dg.MetadataValue.json({mart.name: mart.rows for mart in written}),
            "files": dg.MetadataValue.int(sum(len(mart.files) for mart in written)),
        })

    @dg.asset(
        key=REPORT_KEY,
        deps=marts,
        required_resource_keys={WRITE_LOCK},
        group_name="report",
        kinds={"html", "polars"},
        description=(
            f"A self-contained HTML report ({settings.report_path}; opens offline) with charts: the US and EU27 "
            "share of China's imports by sector over time, the change since the baseline window, who replaced the US "
            "and the EU, the chokepoint products and the seed article's claims tested. Says SYNTHETIC SAMPLE when "
            "built from the sample."
        ),
    )
    def dependency_report() -> dg.MaterializeResult:
        data = report.write_report(settings.warehouse_path, settings.report_path,
                                   settings.parameter("chokepoint_group"), settings.parameter("trend_stable_pp"))
        return dg.MaterializeResult(metadata={
            **synthetic,
            "report": dg.MetadataValue.path(str(settings.report_path)),
            "sectors": dg.MetadataValue.int(data.sectors["sector"].n_unique()),
            "chokepoint_products_latest_year": dg.MetadataValue.int(data.chokepoints.height),
        })

    @dg.asset(
        key=QUALITY_PAGE_KEY,
        deps=marts,
        required_resource_keys={WRITE_LOCK},
        group_name="quality",
        kinds={"great_expectations", "html"},
        description=(
            f"The Great Expectations results page ({settings.quality_dir / 'index.html'}): the latest outcome of every "
            "suite, each failed expectation with its unexpected count and sample rows. Each check also updates it."
        ),
    )
    def validation_results_page() -> dg.MaterializeResult:
        page, results = rewrite_page(settings.quality_dir)
        failed = sorted(result["suite"] for result in results if not result["success"])
        return dg.MaterializeResult(metadata={
            "results_page": dg.MetadataValue.path(str(page)),
            "suites": dg.MetadataValue.int(len(results)),
            "failed_suites": dg.MetadataValue.text(", ".join(failed) or "none"),
        })

    return [mart_files, dependency_report, validation_results_page]

