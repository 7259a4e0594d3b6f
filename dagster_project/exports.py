"""BI exports: every mart as Parquet and CSV with stable names, plus a data dictionary from the dbt docs.

Each file is written under a temporary name in the destination folder and renamed into place, so
a BI tool reading `<name>.parquet` sees the previous complete file or the new complete file, never
half of one. The warehouse is opened read-only.

Rows are sorted by each mart's key, taken from its dbt `unique` / `unique_combination` test, so two exports
of the same data are identical files. Every text column is quoted in the CSV files. For Excel (`excel=True`)
the CSV files start with a UTF-8 byte-order mark and codes made of digits are written as ="010221".
"""

from __future__ import annotations

import codecs
import json
import shutil
from dataclasses import dataclass
from pathlib import Path

from dagster_project.dbt_docs import DbtDocsError, MartDoc, mart_docs
from dagster_project.files import atomic_file, atomic_path, write_atomic
from dagster_project.warehouse import connect, sql_literal_path

FORMATS = ("parquet", "csv")
COPY_OPTIONS = {"parquet": "FORMAT parquet, COMPRESSION zstd"}  # CSV: csv_options()
DICTIONARY_NAME = "data_dictionary"
SYNTHETIC_BANNER = "SYNTHETIC SAMPLE: every number in these files is invented, not real trade data."


class ExportError(RuntimeError):
    """The marts could not be exported; the message says which and why."""


@dataclass(frozen=True)
class ExportedMart:
    name: str
    rows: int
    files: list[Path]


def export_marts(
    warehouse: Path, destination: Path, manifest_path: Path, formats: tuple[str, ...] = FORMATS, excel: bool = False
) -> list[ExportedMart]:
    """Write every mart in each format, rows sorted by its key, then the data dictionary; returns what was written.

    `excel` writes the CSV files for Excel (see _excel_text). The dictionary says SYNTHETIC SAMPLE when the
    warehouse's data sources are the sample.
    """
    validate_formats(formats)
    try:
        docs = mart_docs(manifest_path)
    except DbtDocsError as error:
        raise ExportError(str(error)) from error
    destination.mkdir(parents=True, exist_ok=True)
    exported = []
    with connect(warehouse, read_only=True) as con:
        present = {name for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts'").fetchall()}
        missing = [doc.name for doc in docs if doc.name not in present]
        if missing:
            raise ExportError(f"marts missing from {warehouse}: {', '.join(missing)}; build them first")
        for doc in docs:
            files = [_copy_atomic(con, doc, destination / f"{doc.name}.{fmt}", fmt, excel) for fmt in formats]
            rows = con.execute(f"SELECT count(*) FROM marts.{doc.name}").fetchone()[0]
            exported.append(ExportedMart(doc.name, rows, files))
        synthetic = con.execute("SELECT coalesce(bool_or(is_synthetic), false) FROM marts.dim_data_source").fetchone()[0]
    write_dictionary(destination, docs, {mart.name: mart.rows for mart in exported}, formats, synthetic)
    return exported


def validate_formats(formats: tuple[str, ...]) -> None:
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown or not formats:
        raise ExportError(f"unknown export format {', '.join(unknown) or '(none)'}: choose from {', '.join(FORMATS)}")


def text_columns(con, relation: str) -> list[str]:
    """The text columns of a table or view (`relation` is the code's, or a name the warehouse itself listed)."""
    return [name for name, kind in _columns(con, relation) if kind == "VARCHAR"]


def csv_options(text: list[str]) -> str:
    """COPY options of every CSV the project writes: a header, and every text column quoted, so that a code such
    as hs6 "010221" is marked as text for the readers that keep quoted fields as text (most guess types anyway:
    the README says how to read them)."""
    quoted = f", FORCE_QUOTE ({', '.join(_identifier(name) for name in text)})" if text else ""
    return f"FORMAT csv, HEADER true{quoted}"


def _copy_atomic(con, doc: MartDoc, target: Path, fmt: str, excel: bool) -> Path:
    """Copy the mart, sorted by its key (by every column when dbt declares none), to target atomically."""
    # `doc.name` comes from dbt's manifest and was matched against the warehouse's own table names.
    relation = f"marts.{doc.name}"
    text = text_columns(con, relation)
    columns = ", ".join(_excel_text(name) if excel and fmt == "csv" and name in text else _identifier(name)
                        for name, _ in _columns(con, relation))
    order = ", ".join(_identifier(name) for name in doc.key) or "ALL"
    options = csv_options(text) if fmt == "csv" else COPY_OPTIONS[fmt]
    with atomic_path(target) as temporary:
        con.execute(f"COPY (SELECT {columns} FROM {relation} ORDER BY {order}) TO '{sql_literal_path(temporary)}' ({options})")
        if excel and fmt == "csv":
            _prepend_bom(temporary)
    return target


def _columns(con, relation: str) -> list[tuple[str, str]]:
    return [(row[0], row[1]) for row in con.execute(f"DESCRIBE {relation}").fetchall()]


def _excel_text(name: str) -> str:
    """A text value made only of digits becomes the formula ="010221", which Excel shows as the text
    010221; opened as plain CSV, Excel would read the number 10221 (and 12-digit codes in scientific notation)."""
    column = _identifier(name)
    return f"""CASE WHEN regexp_full_match({column}, '[0-9]+') THEN '="' || {column} || '"' ELSE {column} END AS {column}"""


def _prepend_bom(path: Path) -> None:
    """UTF-8 byte-order mark first: without it Windows Excel reads the file as ANSI and garbles Côte d'Ivoire."""
    with path.open("rb") as source, atomic_file(path) as target:
        target.write(codecs.BOM_UTF8)
        shutil.copyfileobj(source, target)


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_dictionary(
    destination: Path, docs: list[MartDoc], rows: dict[str, int], formats: tuple[str, ...], synthetic: bool
) -> None:
    """data_dictionary.json (for programs) and data_dictionary.md (for people), both from the dbt docs."""
    entries = [{"mart": doc.name, "rows": rows[doc.name], "files": [f"{doc.name}.{fmt}" for fmt in formats],
                "description": doc.description, "key": doc.key, "columns": doc.columns} for doc in docs]
    document = {"synthetic": synthetic, **({"note": SYNTHETIC_BANNER} if synthetic else {}), "marts": entries}
    write_atomic(destination / f"{DICTIONARY_NAME}.json", json.dumps(document, indent=2).encode("utf-8"))
    write_atomic(destination / f"{DICTIONARY_NAME}.md", _dictionary_markdown(entries, synthetic).encode("utf-8"))


def _dictionary_markdown(entries: list[dict], synthetic: bool) -> str:
    lines = ["# tradedep marts: data dictionary", ""]
    if synthetic:
        lines += [f"> **{SYNTHETIC_BANNER}**", ""]
    lines += ["Generated from the dbt docs of each mart. Files: `<mart>.parquet` and `<mart>.csv` in this folder, "
              "rows sorted by the mart's key; text columns are quoted in the CSV files.", ""]
    for entry in entries:
        key = ", ".join(f"`{column}`" for column in entry["key"]) or "none declared (rows sorted by every column)"
        lines += [f"## {entry['mart']} ({entry['rows']:,} rows)", "", entry["description"], "", f"Key: {key}.", "",
                  "| column | type | description |", "|---|---|---|"]
        lines += [f"| `{c['name']}` | {c['data_type']} | {' '.join(c['description'].split())} |" for c in entry["columns"]]
        lines.append("")
    return "\n".join(lines)
