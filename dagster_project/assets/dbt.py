"""The dbt project as Dagster assets (staging, intermediate, marts, seeds) via dagster-dbt."""


import json
import shutil
from collections.abc import Iterator, Mapping
from functools import cache
from graphlib import TopologicalSorter
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from dagster_project import dbt_docs, fingerprints, raw_tables, spark_engine
from dagster_project.assets.common import synthetic_metadata
from dagster_project.assets.resources import WarehouseWriteSession
from dagster_project.assets.table_metadata import TABLE_METADATA, table_metadata
from dagster_project.settings import DBT_PROJECT_DIR, Settings
from dagster_project.warehouse import connect

DBT_PROJECT = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
DBT_STEP = "dbt_build"


class DbtBuildConfig(dg.Config):
    """Run config of the dbt step: force runs `dbt build` even when nothing it reads has changed."""

    force: bool = False


class TradedepTranslator(DagsterDbtTranslator):
    """Groups dbt assets by layer (staging, intermediate, marts; seeds) and tags them dbt + their engine."""

    def __init__(self, engine: str) -> None:
        super().__init__()
        self.engine = engine

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "seeds"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"

    def get_asset_spec(self, manifest, unique_id, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        return spec.merge_attributes(kinds={self.engine})


def build_dbt_assets(settings: Settings) -> dg.AssetsDefinition:
    @dbt_assets(manifest=DBT_PROJECT.manifest_path, project=DBT_PROJECT,
                dagster_dbt_translator=TradedepTranslator(settings.engine))
    def tradedep_dbt(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse_write_session: WarehouseWriteSession,
                     config: DbtBuildConfig) -> Iterator[Any]:
        with connect(settings.warehouse_path) as con:
            raw_tables.create_all(con)  # a switched-off source's table exists, empty, so its models build
            if settings.engine == "spark":  # Spark reads the raw tables as Parquet files (spark_engine.py)
                written = spark_engine.write_raw_parquet(con, dbt_sources(), settings.raw_parquet_dir)
                context.log.info(f"{sum(written.values()):,} raw rows written as Parquet to {settings.raw_parquet_dir}")
        # On DuckDB, a build whose inputs have not changed is not run again; a Spark build always runs.
        inputs = dbt_inputs_fingerprint(settings) if settings.engine == "duckdb" else None
        if inputs and not context.is_subset and not (config.force or settings.force):
            last = unchanged_build(settings, inputs)
            if last:
                context.log.info(
                    f"dbt not run: its inputs (raw tables, seeds, models, vars) and its {len(last['outputs'])} tables "
                    f"and views are exactly as when it last succeeded (run {last['run_id']}); "
                    "force a rebuild with `tradedep build --force` or this op's config force: true")
                # Each model is reported with its unchanged data version, so what depends on it (checks,
                # exports, report) still runs; each dbt test with its outcome on this same data.
                yield from unchanged_results(context, settings, last)
                yield from unchanged_test_results(last)
                return
        # No colour codes: dbt's lines go to logs and pipes, where they would be noise.
        invocation = dbt.cli(["build", "--no-use-colors", "--vars", json.dumps(settings.dbt_vars())], context=context,
                             raise_on_error=False)
        events = list(mark_synthetic(invocation.stream(), settings.sample))
        if settings.engine == "spark" and invocation.is_successful():
            # The tables Spark built, read into the warehouse: the checks, exports and report read them there.
            with connect(settings.warehouse_path) as con:
                spark_engine.read_built_tables(con, dbt_tables(context.selected_asset_keys), settings.spark_warehouse)
        # dbt holds the warehouse's write lock while it runs, so the tables are described once it has finished.
        yield from with_table_metadata(events, settings, context.assets_def.keys_by_output_name)
        if not invocation.is_successful():
            record_build(settings, inputs, context.run_id, succeeded=False)
            raise invocation.get_error()
        record_build(settings, inputs, context.run_id, succeeded=inputs is not None and not context.is_subset,
                     tests=test_outcomes(events))
        # dagster-dbt writes one target folder per run; keep its parse state and the disk clean once it succeeded.
        dbt_docs.keep_parse_state(DBT_PROJECT_DIR / invocation.target_path)
        shutil.rmtree(DBT_PROJECT_DIR / invocation.target_path, ignore_errors=True)

    return tradedep_dbt


@cache
def dbt_manifest() -> dict[str, Any]:
    """The parsed manifest the definitions were built from (read once per process)."""
    return dbt_docs.load(DBT_PROJECT.manifest_path)


def dbt_relations() -> list[tuple[str, str]]:
    """(schema, name) of every model and seed dbt builds, from its manifest."""
    nodes = dbt_manifest()["nodes"].values()
    return sorted((node["schema"], node["alias"]) for node in nodes if node["resource_type"] in ("model", "seed"))


def dbt_tables(keys: set[dg.AssetKey] | None = None) -> list[tuple[str, str]]:
    """(schema, name) of every seed and model dbt builds as a table (not a view), of the given asset keys if any."""
    nodes = dbt_manifest()["nodes"].values()
    tables = sorted((node["schema"], node["alias"]) for node in nodes if node["resource_type"] == "seed"
                    or (node["resource_type"] == "model" and node["config"]["materialized"] == "table"))
    return [table for table in tables if keys is None or dg.AssetKey(list(table)) in keys]


def dbt_sources() -> list[tuple[str, str]]:
    """(schema, table) of every raw table the dbt sources point at."""
    return sorted((source["schema"], source["identifier"]) for source in dbt_manifest()["sources"].values())


def dbt_inputs_fingerprint(settings: Settings) -> str:
    """Everything `dbt build` reads: its project files, vars and the content of its source tables."""
    files = dbt_docs.project_files()
    with connect(settings.warehouse_path, read_only=True) as con:
        tables = {f"{schema}.{name}": fingerprints.relation_fingerprint(con, schema, name, settings.warehouse_path)
                  for schema, name in dbt_sources()}
    return fingerprints.combine(fingerprints.files_fingerprint(DBT_PROJECT_DIR, files), settings.model_vars(), tables)


def output_fingerprints(con) -> dict[str, str]:
    return {f"{schema}.{name}": fingerprints.relation_fingerprint(con, schema, name) for schema, name in dbt_relations()}


def unchanged_build(settings: Settings, inputs: str) -> dict[str, Any] | None:
    """What the last successful whole `dbt build` recorded (its run, outputs and test outcomes) if its inputs
    had this fingerprint and every table and view it built is still as it left them; else None."""
    with connect(settings.warehouse_path, read_only=True) as con:
        last = fingerprints.recorded(con, DBT_STEP)
        if last is None or last[0] != inputs or last[1].get("outputs") != output_fingerprints(con):
            return None
    return last[1]


def topological_keys(assets_def: dg.AssetsDefinition) -> list[dg.AssetKey]:
    """The definition's keys, each after what it depends on (Dagster requires that order of a multi-asset)."""
    keys = set(assets_def.keys)
    sorter = TopologicalSorter({key: assets_def.asset_deps[key] & keys for key in keys})
    return list(sorter.static_order())


def unchanged_results(
    context: dg.AssetExecutionContext, settings: Settings, last: dict[str, Any]
) -> Iterator[dg.MaterializeResult]:
    """Each model and seed as not rebuilt, with the data version of its unchanged content and the table
    metadata of its last materialisation (the same rows, so the same schema, count and preview)."""
    with connect(settings.warehouse_path, read_only=True) as con:
        for key in topological_keys(context.assets_def):
            relation = ".".join(key.path)
            previous = context.instance.get_latest_materialization_event(key)
            described = {name: value for name, value in previous.asset_materialization.metadata.items()
                         if name in TABLE_METADATA} if previous and previous.asset_materialization else {}
            yield dg.MaterializeResult(
                asset_key=key,
                data_version=dg.DataVersion(fingerprints.digest(last["outputs"][relation])),
                metadata={**(described if len(described) == len(TABLE_METADATA) else table_metadata(con, relation)),
                          "rebuilt": False, "unchanged_since_run": dg.MetadataValue.text(last["run_id"]),
                          **synthetic_metadata(settings.sample)},
            )


def unchanged_test_results(last: dict[str, Any]) -> Iterator[dg.AssetCheckResult]:
    for test in last["tests"]:
        yield dg.AssetCheckResult(
            asset_key=dg.AssetKey.from_user_string(test["asset"]),
            check_name=test["check"],
            passed=test["passed"],
            severity=dg.AssetCheckSeverity(test["severity"]),
            description=f"dbt test not run again: nothing it reads has changed since run {last['run_id']}",
            metadata={"validated_again": False, "validated_in_run": dg.MetadataValue.text(last["run_id"])},
        )


def test_outcomes(events: list[Any]) -> list[dict[str, Any]]:
    """Each dbt test's outcome as dagster-dbt reported it (a warn-severity test may have failed)."""
    return [
        {"asset": event.asset_key.to_user_string(), "check": event.check_name, "passed": event.passed,
         "severity": event.severity.value}
        for event in events if isinstance(event, dg.AssetCheckResult)
    ]


def record_build(settings: Settings, inputs: str | None, run_id: str, succeeded: bool, tests: list | None = None) -> None:
    """After a successful build of the whole project, remember its inputs, outputs and test outcomes; a failed
    or partial build voids the record, so the next build runs dbt."""
    with connect(settings.warehouse_path) as con:
        if succeeded:
            detail = {"run_id": run_id, "outputs": output_fingerprints(con), "tests": tests or []}
            fingerprints.record(con, DBT_STEP, inputs, detail)
        else:
            fingerprints.forget(con, DBT_STEP)


def with_table_metadata(events: list[Any], settings: Settings, keys: Mapping[str, dg.AssetKey]) -> Iterator[Any]:
    """Add each built table's column schema, row count and preview to its materialisation.

    Asset keys are schema/table (the translator's default), so a key names its table in the warehouse.
    """
    with connect(settings.warehouse_path, read_only=True) as con:
        # Every table and view on DuckDB; on Spark, what was read back (its views stay in Spark).
        present = {tuple(row) for row in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
        for event in events:
            if isinstance(event, dg.Output | dg.AssetMaterialization):
                key = event.asset_key if isinstance(event, dg.AssetMaterialization) else keys[event.output_name]
                if tuple(key.path) in present:
                    event = event.with_metadata({**event.metadata, **table_metadata(con, ".".join(key.path))})
            yield event


def mark_synthetic(events: Iterator[Any], synthetic: bool) -> Iterator[Any]:
    """Add the synthetic flag to every dbt materialisation, so the UI says what the numbers are."""
    for event in events:
        if isinstance(event, dg.Output | dg.AssetMaterialization):
            event = event.with_metadata({**event.metadata, **synthetic_metadata(synthetic)})
        yield event
