"""BI exports: every mart as Parquet and CSV with stable names, plus a data dictionary from the dbt docs.

Each file is written under a temporary name in the destination folder and renamed into place, so
a BI tool reading `<name>.parquet` sees the previous complete file or the new complete file, never
half of one. The warehouse is opened read-only.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from dagster_project.sources.landing import write_atomic
from dagster_project.warehouse import connect, sql_literal_path

FORMATS = ("parquet", "csv")
COPY_OPTIONS = {"parquet": "FORMAT parquet, COMPRESSION zstd", "csv": "FORMAT csv, HEADER true"}
DICTIONARY_NAME = "data_dictionary"
SYNTHETIC_BANNER = "SYNTHETIC SAMPLE: every number in these files is invented, not real trade data."


class ExportError(RuntimeError):
    """The marts could not be exported; the message says which and why."""


@dataclass(frozen=True)
class MartDoc:
    name: str
    description: str
    columns: list[dict[str, str]]  # name, data_type, description


@dataclass(frozen=True)
class ExportedMart:
    name: str
    rows: int
    files: list[Path]


def mart_docs(manifest_path: Path) -> list[MartDoc]:
    """The marts of the dbt project with their documented columns, read from dbt's manifest.json."""
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    docs = [
        MartDoc(
            name=node["name"],
            description=node["description"].strip(),
            columns=[
                {"name": column["name"], "data_type": column.get("data_type") or "", "description": column["description"].strip()}
                for column in node["columns"].values()
            ],
        )
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1] == "marts"
    ]
    if not docs:
        raise ExportError(f"{manifest_path} lists no marts: run `dbt parse` (tradedep build does) first")
    return sorted(docs, key=lambda doc: doc.name)


def export_marts(
    warehouse: Path, destination: Path, manifest_path: Path, formats: tuple[str, ...] = FORMATS
) -> list[ExportedMart]:
    """Write every mart in each format, then the data dictionary; returns what was written.

    The dictionary says SYNTHETIC SAMPLE when the warehouse's data sources are the sample.
    """
    validate_formats(formats)
    docs = mart_docs(manifest_path)
    destination.mkdir(parents=True, exist_ok=True)
    exported = []
    with connect(warehouse, read_only=True) as con:
        present = {name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()}
        missing = [doc.name for doc in docs if doc.name not in present]
        if missing:
            raise ExportError(f"marts missing from {warehouse}: {', '.join(missing)}; build them first")
        for doc in docs:
            files = [_copy_atomic(con, doc.name, destination / f"{doc.name}.{fmt}", fmt) for fmt in formats]
            rows = con.execute(f"SELECT count(*) FROM marts.{doc.name}").fetchone()[0]
            exported.append(ExportedMart(doc.name, rows, files))
        synthetic = con.execute("SELECT coalesce(bool_or(is_synthetic), false) FROM marts.dim_data_source").fetchone()[0]
    write_dictionary(destination, docs, {mart.name: mart.rows for mart in exported}, formats, synthetic)
    return exported


def validate_formats(formats: tuple[str, ...]) -> None:
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise ExportError(f"unknown export format {', '.join(unknown) or '(none)'}: choose from {', '.join(FORMATS)}")


def _copy_atomic(con, mart: str, target: Path, fmt: str) -> Path:
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        # `mart` comes from dbt's manifest and was matched against the warehouse's own table names.
        con.execute(f"COPY marts.{mart} TO '{sql_literal_path(temporary)}' ({COPY_OPTIONS[fmt]})")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target


def write_dictionary(
    destination: Path, docs: list[MartDoc], rows: dict[str, int], formats: tuple[str, ...], synthetic: bool
) -> None:
    """data_dictionary.json (for programs) and data_dictionary.md (for people), both from the dbt docs."""
    entries = [{"mart": doc.name, "rows": rows[doc.name], "files": [f"{doc.name}.{fmt}" for fmt in formats],
                "description": doc.description, "columns": doc.columns} for doc in docs]
    document = {"synthetic": synthetic, **({"note": SYNTHETIC_BANNER} if synthetic else {}), "marts": entries}
    write_atomic(destination / f"{DICTIONARY_NAME}.json", json.dumps(document, indent=2).encode("utf-8"))
    write_atomic(destination / f"{DICTIONARY_NAME}.md", _dictionary_markdown(entries, synthetic).encode("utf-8"))


def _dictionary_markdown(entries: list[dict], synthetic: bool) -> str:
    lines = ["# tradedep marts: data dictionary", ""]
    if synthetic:
        lines += [f"> **{SYNTHETIC_BANNER}**", ""]
    lines += ["Generated from the dbt docs of each mart. Files: `<mart>.parquet` and `<mart>.csv` in this folder.", ""]
    for entry in entries:
        lines += [f"## {entry['mart']} ({entry['rows']:,} rows)", "", entry["description"], "",
                  "| column | type | description |", "|---|---|---|"]
        lines += [f"| `{c['name']}` | {c['data_type']} | {' '.join(c['description'].split())} |" for c in entry["columns"]]
        lines.append("")
    return "\n".join(lines)
