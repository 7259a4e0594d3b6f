"""The dbt project as Dagster assets (staging, intermediate, marts, seeds) via dagster-dbt."""


import json
import shutil
from collections.abc import Iterator, Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project import raw_tables
from dagster_project.assets.baci import SYNTHETIC_NOTE
from dagster_project.assets.table_metadata import table_metadata
from dagster_project.settings import DBT_PROJECT_DIR, Settings
from dagster_project.warehouse import connect

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class TradedepTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer (staging, intermediate, marts; seeds) and tags them dbt + duckdb."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        return spec.merge_attributes(kinds={"duckdb"})


def build_dbt_assets(settings: Settings) -> dg.AssetsDefinition:
    @dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT, dagster_dbt_translator=TradedepTranslator())
    def tradedep_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
        with connect(settings.warehouse_path) as con:
            raw_tables.create_all(con)  # a switched-off source's table exists, empty, so its models build
        invocation = dbt.cli(["build", "--vars", json.dumps(settings.dbt_vars())], context=context, raise_on_error=False)
        events = list(mark_synthetic(invocation.stream(), settings.sample))
        # dbt holds the warehouse's write lock while it runs, so the tables are described once it has finished.
        yield from with_table_metadata(events, settings, context.assets_def.keys_by_output_name)
        if not invocation.is_successful():
            raise invocation.get_error()
        # dagster-dbt writes one target folder per run; keep the disk clean once the run succeeded.
        shutil.rmtree(DBT_PROJECT_DIR / invocation.target_path, ignore_errors=True)

    return tradedep_dbt


def with_table_metadata(events: list[Any], settings: Settings, keys: Mapping[str, dg.AssetKey]) -> Iterator[Any]:
    """Add each built table's column schema, row count and preview to its materialisation.

    Asset keys are schema/table (the translator's default), so a key names its table in the warehouse.
    """
    with connect(settings.warehouse_path, read_only=True) as con:
        for event in events:
            if isinstance(event, dg.Output | dg.AssetMaterialization):
                key = event.asset_key if isinstance(event, dg.AssetMaterialization) else keys[event.output_name]
                event = event.with_metadata({**event.metadata, **table_metadata(con, ".".join(key.path))})
            yield event


def mark_synthetic(events: Iterator[Any], synthetic: bool) -> Iterator[Any]:
    """Add the synthetic flag to every dbt materialisation, so the UI says what the numbers are."""
    for event in events:
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            extra = {"synthetic": synthetic, **({"data_note": SYNTHETIC_NOTE} if synthetic else {})}
            event = event.with_metadata({**event.metadata, **extra})
        yield event
