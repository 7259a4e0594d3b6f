"""What the dbt project says about its tables, read from dbt's manifest.json: descriptions, columns, keys.

No Dagster imports, so the CLI can list tables without loading Dagster. The manifest is written by
`dbt parse` when the project changed (prepare_manifest).
"""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from dagster_project.settings import BIN_DIR, DBT_PROJECT_DIR, Settings

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"
PARSE_STATE = "partial_parse.msgpack"
# dbt's folders of project files when dbt_project.yml does not name them (its *-paths settings).
DBT_DEFAULT_PATHS = {"model-paths": ["models"], "seed-paths": ["seeds"], "test-paths": ["tests"],
                     "macro-paths": ["macros"], "analysis-paths": ["analyses"], "snapshot-paths": ["snapshots"]}


class DbtDocsError(RuntimeError):
    """The manifest is missing or does not describe what was asked; the message says what to run."""


@dataclass(frozen=True)
class MartDoc:
    name: str
    description: str
    columns: list[dict[str, str]]  # name, data_type, description
    key: list[str]  # the columns of its unique / unique_combination test; empty when it declares none


def project_files() -> list[Path]:
    """Every file dbt reads from the project: dbt_project.yml, the profile, and each file under the folders its
    *-paths settings name (models, seeds, tests, macros, ...). What dbt writes (target/, logs/) is not among them."""
    project = yaml.safe_load((DBT_PROJECT_DIR / "dbt_project.yml").read_text(encoding="utf-8"))
    paths = {**DBT_DEFAULT_PATHS, **{key: value for key, value in project.items() if key.endswith("-paths")}}
    folders = {DBT_PROJECT_DIR / folder for folder_list in paths.values() for folder in folder_list}
    files = {DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"}
    files.update(path for folder in folders for path in folder.rglob("*") if path.is_file())
    return sorted(files)


def prepare_manifest(settings: Settings) -> None:
    """Parse the dbt project into target/manifest.json when a file of the project changed since. It is parsed with
    the vars a build passes: dbt parses everything again when its vars or profile differ from its last parse's."""
    if MANIFEST_PATH.exists() and MANIFEST_PATH.stat().st_mtime >= max(p.stat().st_mtime for p in project_files()):
        return
    subprocess.run(
        [BIN_DIR / "dbt", "parse", "--quiet", "--project-dir", DBT_PROJECT_DIR, "--profiles-dir", DBT_PROJECT_DIR,
         "--vars", json.dumps(settings.for_build().dbt_vars())],
        check=True,
    )


def keep_parse_state(run_target: Path) -> None:
    """Keep a dbt run's parse state (partial_parse.msgpack) where the next run starts from (dagster-dbt copies
    target/partial_parse.msgpack into each run's own target folder): a build with the same vars as the last one then
    parses only the files that changed, not the whole project (seconds per build)."""
    state = run_target / PARSE_STATE
    if state.exists():
        os.replace(state, MANIFEST_PATH.parent / PARSE_STATE)  # atomic: a run starting now reads the old or the new


def load(manifest_path: Path = MANIFEST_PATH) -> dict[str, Any]:
    if not manifest_path.exists():
        raise DbtDocsError(f"no dbt manifest at {manifest_path}: run `dbt parse` (tradedep build does) first")
    return json.loads(manifest_path.read_text(encoding="utf-8"))


def relation_descriptions(manifest: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(schema, table) -> description of every model, seed and source table dbt documents."""
    nodes = [node for node in manifest["nodes"].values() if node["resource_type"] in ("model", "seed")]
    described = {(node["schema"], node["alias"]): node["description"] for node in nodes}
    described.update({(source["schema"], source["identifier"]): source["description"]
                      for source in manifest["sources"].values()})
    return {relation: " ".join(text.split()) for relation, text in described.items()}


def unique_keys(manifest: dict[str, Any]) -> dict[str, list[str]]:
    """Model unique_id -> the columns its `unique` or `unique_combination` test says identify a row."""
    keys = {}
    for node in manifest["nodes"].values():
        test = node.get("test_metadata") or {}
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        if test.get("name") == "unique_combination":
            keys[node["attached_node"]] = list(test["kwargs"]["combination"])
        elif test.get("name") == "unique" and node["attached_node"] not in keys:
            keys[node["attached_node"]] = [test["kwargs"]["column_name"]]
    return keys


def mart_docs(manifest_path: Path = MANIFEST_PATH) -> list[MartDoc]:
    """The marts of the dbt project with their documented columns and keys, sorted by name."""
    manifest = load(manifest_path)
    keys = unique_keys(manifest)
    docs = [
        MartDoc(
            name=node["name"],
            description=node["description"].strip(),
            columns=[
                {"name": column["name"], "data_type": column.get("data_type") or "", "description": column["description"].strip()}
                for column in node["columns"].values()
            ],
            key=keys.get(unique_id, []),
        )
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    ]
    if not docs:
        raise DbtDocsError(f"{manifest_path} lists no marts: run `dbt parse` (tradedep build does) first")
    return sorted(docs, key=lambda doc: doc.name)
