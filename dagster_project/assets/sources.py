"""Dagster assets for the API sources (UN Comtrade, OECD TiVA, World Bank WDI): landing and raw tables.

Each source has a landing asset (download into the landing zone, or write the synthetic sample) and a
raw asset (parse the landed files and replace the raw table and the files' rows of raw.quarantine in one
transaction). A source switched off in TRADEDEP_SOURCES has no assets; its raw table stays empty.
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import dagster as dg
import polars as pl

from dagster_project import raw_tables
from dagster_project.assets.common import LandingConfig, landing_settings, origin_metadata, recorded_files
from dagster_project.assets.resources import WRITE_LOCK
from dagster_project.assets.table_metadata import described_table
from dagster_project.hs_codes import comtrade_products
from dagster_project.sample import comtrade_sample, oecd_tiva_sample, worldbank_sample
from dagster_project.settings import Settings
from dagster_project.sources import comtrade, landing, oecd_tiva, quarantine, worldbank

TIVA_VERSION = "1.0"  # the 2023 edition (1995-2020)
from dagster_project.warehouse import connect, swap_rows, transaction


@dataclass(frozen=True)
class SourceSpec:
    """What the generic landing and raw assets need to know about one source."""

    name: str  # as in TRADEDEP_SOURCES, also the landing folder
    table: str  # the raw table, e.g. raw.worldbank_indicators
    description: str
    land: Callable[[Settings, Path], list[landing.LandedFile]]  # download, or write the sample
    file_names: Callable[[Settings, Path], list[str]]  # the landed files the configured run uses
    parse: Callable[[list[Path]], quarantine.Parsed]  # the landed files into the raw table's columns, and bad rows


def load_table(settings: Settings, spec: SourceSpec, files: list[landing.LandedFile]) -> quarantine.Parsed:
    """Parse the landed files and, in one transaction, replace the raw table and the files' rows of
    raw.quarantine with the rows that could not be read.

    The landed files are every answer the configuration asks for, so the table holds exactly what the
    settings ask for: a year or a frequency no longer asked for (TRADEDEP_COMTRADE_MONTHS=none) leaves no
    rows behind, nor does a sample build before a real one.

    Past TRADEDEP_MAX_BAD_ROW_SHARE of bad rows in a file, TooManyBadRowsError names the file and its first
    bad lines, and nothing is written.
    """
    synthetic = any(file.synthetic for file in files)
    parsed = spec.parse([file.path for file in files])
    parsed.check_share(settings.max_bad_row_share)
    frame = parsed.frame.with_columns(pl.lit(synthetic).alias("synthetic"))
    with connect(settings.warehouse_path) as con:
        raw_tables.create_all(con)
        with transaction(con):
            swap_rows(con, spec.table, frame)
            quarantine.replace(con, spec.name, [file.path.name for file in files], parsed.bad_rows)
    return replace(parsed, frame=frame)


def source_assets(settings: Settings, spec: SourceSpec) -> list[dg.AssetsDefinition]:
    landing_key = dg.AssetKey(["landing", spec.name])
    folder = settings.landing_for(spec.name)

    @dg.asset(key=landing_key, group_name="raw", kinds={"file"}, description=f"{spec.description} Landed files.")
    def landed(context: dg.AssetExecutionContext, config: LandingConfig) -> dg.MaterializeResult:
        files = spec.land(landing_settings(settings, config), folder)
        context.log.info(f"{spec.name}: {len(files)} files landed in {folder}")
        return dg.MaterializeResult(metadata={**origin_metadata(files), "files": len(files), "folder": dg.MetadataValue.path(str(folder)),
                                              "size_bytes": sum(file.size for file in files)})

    @dg.asset(
        key=dg.AssetKey(spec.table.split(".")),
        deps=[landing_key],
        required_resource_keys={WRITE_LOCK},
        group_name="raw",
        kinds={"duckdb", "polars"},
        description=f"{spec.description} The table is replaced in one transaction; rows that cannot be read go to "
        "raw.quarantine.",
    )
    def raw_table(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        files = recorded_files(folder, spec.file_names(settings, folder), landing_key)
        parsed = load_table(settings, spec, files)
        bad = len(parsed.bad_rows)
        message = f"{spec.table}: {parsed.frame.height:,} rows from {len(files)} files, {bad} malformed rows"
        if bad:
            first = quarantine.describe(parsed.bad_rows[0], parsed.unit)
            context.log.warning(f"{message} in raw.quarantine (first: {first})")
        else:
            context.log.info(message)
        return dg.MaterializeResult(
            metadata={
                **origin_metadata(files),
                **described_table(settings, spec.table),
                "byte_count": dg.MetadataValue.int(sum(file.size for file in files)),
                "source_files": dg.MetadataValue.int(len(files)),
                "quarantined_rows": dg.MetadataValue.int(bad),
            }
        )

    return [landed, raw_table]


def worldbank_spec() -> SourceSpec:
    def land(settings: Settings, folder: Path) -> list[landing.LandedFile]:
        first, last = settings.worldbank_years
        if settings.sample:
            return worldbank_sample.write_sample(folder, first, last)
        return worldbank.fetch(folder, settings.worldbank_url, first, last, refresh=settings.refresh)

    def file_names(settings: Settings, folder: Path) -> list[str]:
        first, last = settings.worldbank_years
        return sorted(p.name for indicator in worldbank.INDICATORS for p in folder.glob(f"wdi_{indicator}_{first}-{last}_p*.json"))

    return SourceSpec(
        name="worldbank",
        table="raw.worldbank_indicators",
        description="World Bank WDI indicators (manufacturing and industry value added, GDP, high-tech exports, "
        "medium and high-tech share of manufacturing) for China, the US and the EU.",
        land=land,
        file_names=file_names,
        parse=worldbank.read,
    )


def build_source_assets(settings: Settings) -> list[dg.AssetsDefinition]:
    """Assets of every API source switched on in the settings."""
    specs = {"comtrade": comtrade_spec, "oecd_tiva": oecd_tiva_spec, "worldbank": worldbank_spec}
    return [asset for name, make in specs.items() if name in settings.sources for asset in source_assets(settings, make())]


def comtrade_spec() -> SourceSpec:
    def requests(settings: Settings) -> list[comtrade.ComtradeRequest]:
        # Reporters use HS2022 for the recent years Comtrade is asked for; records keep their own revision.
        products = sorted(settings.comtrade_products or comtrade_products(settings.hs_revision))
        # The sample answers as the keyed endpoint would: a few large files, not thousands of preview-sized ones.
        keyed = settings.comtrade_api_key is not None or settings.sample
        return comtrade.plan_requests(products, list(settings.comtrade_years), keyed=keyed, months=settings.comtrade_months)

    def land(settings: Settings, folder: Path) -> list[landing.LandedFile]:
        if settings.sample:
            return comtrade_sample.write_sample(folder, requests(settings), settings.hs_revision)
        return comtrade.fetch(
            requests(settings),
            folder,
            settings.comtrade_url,
            settings.comtrade_api_key,
            refresh=settings.refresh,
            throttle_seconds=settings.comtrade_throttle_seconds,
        )

    return SourceSpec(
        name="comtrade",
        table="raw.comtrade_flows",
        description="UN Comtrade API v1 by HS6 for the sector map's products: yearly, China-reported imports from every "
        "partner and exports to the world, the US and the EU27 members, and the US and EU27 members' reported exports "
        "to China (mirror); monthly (TRADEDEP_COMTRADE_MONTHS), China-reported imports from the world and the partner "
        "groups' members and exports to the world.",
        land=land,
        file_names=lambda settings, folder: [request.file_name for request in requests(settings)],
        parse=lambda paths: quarantine.concat([comtrade.read(path) for path in paths]),
    )


def oecd_tiva_spec() -> SourceSpec:
    requests = oecd_tiva.plan_requests(version=TIVA_VERSION)

    def land(settings: Settings, folder: Path) -> list[landing.LandedFile]:
        if settings.sample:
            return oecd_tiva_sample.write_sample(folder, requests, version=TIVA_VERSION)
        return oecd_tiva.fetch(
            requests,
            folder,
            settings.oecd_url,
            version=TIVA_VERSION,
            refresh=settings.refresh,
            throttle_seconds=settings.oecd_throttle_seconds,
        )

    return SourceSpec(
        name="oecd_tiva",
        table="raw.oecd_tiva",
        description="OECD TiVA (2023 edition, 1995-2020): gross output (PROD), gross imports (IMGR) and gross exports "
        "(EXGR) of China and the world by ISIC Rev.4 manufacturing industry, in USD.",
        land=land,
        file_names=lambda settings, folder: [request.file_name(TIVA_VERSION) for request in requests],
        parse=lambda paths: quarantine.concat([oecd_tiva.read(path) for path in paths]),
    )
