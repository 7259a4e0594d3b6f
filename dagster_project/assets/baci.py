"""Dagster assets for CEPII BACI: the landed release zip and the raw.* tables loaded from it."""

from collections.abc import Callable

import dagster as dg

from dagster_project.assets.common import LandingConfig, landing_settings, origin_metadata, recorded_files
from dagster_project.assets.resources import WRITE_LOCK
from dagster_project.assets.table_metadata import described_table, table_metadata
from dagster_project.sample import baci_sample
from dagster_project.settings import Settings
from dagster_project.sources import baci, landing
from dagster_project.warehouse import connect

RELEASE_KEY = dg.AssetKey(["landing", "baci_release"])
TRADE_KEY = dg.AssetKey(["raw", "baci_trade"])
COUNTRIES_KEY = dg.AssetKey(["raw", "baci_countries"])
PRODUCTS_KEY = dg.AssetKey(["raw", "baci_products"])


def release_metadata(landed: landing.LandedFile) -> dict[str, dg.MetadataValue]:
    """Where the data came from, down to the zip's sha256; says loudly when it is the synthetic sample."""
    return {
        **origin_metadata([landed]),
        "source_file": dg.MetadataValue.path(str(landed.path)),
        "source_sha256": dg.MetadataValue.text(landed.sha256),
    }


def build_baci_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    release = baci.Release(settings.hs_revision, settings.baci_release)
    years = dg.StaticPartitionsDefinition([str(year) for year in settings.years])

    def recorded_release() -> landing.LandedFile:
        return recorded_files(settings.baci_landing_dir, [release.zip_name], RELEASE_KEY)[0]

    @dg.asset(
        key=RELEASE_KEY,
        group_name="raw",
        kinds={"file"},
        description=(
            f"The BACI {settings.baci_release} release zip for {settings.hs_revision} in the landing zone "
            f"(downloaded from {settings.baci_url}, or the synthetic sample with TRADEDEP_SAMPLE=1). "
            "Not downloaded again while a verified copy is present, unless TRADEDEP_REFRESH=1."
        ),
    )
    def baci_release(context: dg.AssetExecutionContext, config: LandingConfig) -> dg.MaterializeResult:
        if settings.sample:
            landed, downloaded = baci_sample.ensure_sample_release(settings.baci_landing_dir, release), False
        else:
            landed, downloaded = baci.ensure_release(
                settings.baci_landing_dir, release, settings.baci_url, settings.years,
                refresh=landing_settings(settings, config).refresh,
                progress=landing.logged_progress(context.log.info, release.zip_name),
            )
        state = "synthetic sample" if settings.sample else "downloaded" if downloaded else "already landed and verified"
        context.log.info(f"{landed.path.name}: {state}")
        members = baci.list_members(landed.path)
        return dg.MaterializeResult(
            metadata={
                **release_metadata(landed),
                "size_bytes": dg.MetadataValue.int(landed.size),
                "fetched_at": dg.MetadataValue.text(landed.fetched_at),
                "downloaded_in_this_run": dg.MetadataValue.bool(downloaded),
                "trade_years_in_zip": dg.MetadataValue.text(", ".join(map(str, baci.trade_years(landed.path, release)))),
                "members": dg.MetadataValue.int(len(members)),
            }
        )

    @dg.asset(
        key=TRADE_KEY,
        deps=[RELEASE_KEY],
        required_resource_keys={WRITE_LOCK},
        partitions_def=years,
        backfill_policy=dg.BackfillPolicy.single_run(),
        group_name="raw",
        kinds={"duckdb"},
        description=(
            "BACI bilateral trade flows, one partition per year: t year, i exporter, j importer, k HS6 product "
            "(text), v value in thousand current USD, q quantity in tonnes. Loading a year replaces that year "
            "in one transaction."
        ),
    )
    def baci_trade(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        landed = recorded_release()
        loaded = []
        for year in sorted(int(key) for key in context.partition_keys):
            with connect(settings.warehouse_path) as con:
                stats = baci.load_trade_year(
                    con, landed.path, release, year, landed.manifest_entry(), settings.scratch_dir,
                    max_bad_row_share=settings.max_bad_row_share, skip_unchanged=not settings.refresh,
                )
            quarantined = f", {stats.quarantined} malformed rows quarantined" if stats.quarantined else ""
            kept = " (already loaded from this zip, same sha256: kept)" if stats.unchanged else ""
            context.log.info(f"{stats.member}: {stats.rows:,} rows, {stats.bytes:,} bytes{quarantined}{kept}")
            loaded.append(stats)
        return dg.MaterializeResult(
            metadata={
                **release_metadata(landed),
                **described_table(settings, "raw.baci_trade"),
                "rows_loaded": dg.MetadataValue.int(sum(stats.rows for stats in loaded)),
                "byte_count": dg.MetadataValue.int(sum(stats.bytes for stats in loaded)),
                "source_members": dg.MetadataValue.text(", ".join(stats.member for stats in loaded)),
                "rows_by_year": dg.MetadataValue.json({stats.member: stats.rows for stats in loaded}),
                "quarantined_rows": dg.MetadataValue.int(sum(stats.quarantined for stats in loaded)),
            }
        )

    def reference_asset(key: dg.AssetKey, load: Callable, description: str) -> dg.AssetsDefinition:
        @dg.asset(key=key, deps=[RELEASE_KEY], group_name="raw", kinds={"duckdb", "polars"}, description=description,
                  required_resource_keys={WRITE_LOCK})
        def reference_table() -> dg.MaterializeResult:
            landed = recorded_release()
            with connect(settings.warehouse_path) as con:
                stats = load(con, landed.path, release, landed.manifest_entry())
                described = table_metadata(con, ".".join(key.path))
            return dg.MaterializeResult(
                metadata={
                    **release_metadata(landed),
                    **described,
                    "byte_count": dg.MetadataValue.int(stats.bytes),
                    "source_member": dg.MetadataValue.text(stats.member),
                }
            )

        return reference_table

    countries = reference_asset(
        COUNTRIES_KEY,
        baci.load_countries,
        "BACI country codes: code, name (BACI's double-encoded UTF-8 decoded), ISO2, ISO3, release.",
    )
    products = reference_asset(
        PRODUCTS_KEY,
        baci.load_products,
        f"HS6 product codes and descriptions of {settings.hs_revision} from the BACI release.",
    )
    return [baci_release, baci_trade, countries, products]
