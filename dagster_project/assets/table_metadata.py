"""What the Dagster UI shows about a warehouse table: its columns, its row count and a few rows."""

import dagster as dg
import duckdb

from dagster_project.settings import Settings
from dagster_project.warehouse import connect

PREVIEW_ROWS = 5
TABLE_METADATA = ("dagster/column_schema", "dagster/row_count", "preview")  # the entries table_metadata makes


def table_metadata(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, dg.MetadataValue]:
    """Column schema, row count and a small Markdown preview of `table` (a name from the code)."""
    columns = con.execute(f"DESCRIBE {table}").fetchall()
    row_count = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    preview = con.execute(f"SELECT * FROM {table} LIMIT {PREVIEW_ROWS}").fetchall()
    names = [column[0] for column in columns]
    return {
        "dagster/column_schema": dg.MetadataValue.table_schema(
            dg.TableSchema(columns=[dg.TableColumn(name, str(kind)) for name, kind, *_ in columns])
        ),
        "dagster/row_count": dg.MetadataValue.int(row_count),
        "preview": dg.MetadataValue.md(markdown_table(names, preview)),
    }


def described_table(settings: Settings, table: str) -> dict[str, dg.MetadataValue]:
    """table_metadata of a table of the settings' warehouse, read-only."""
    with connect(settings.warehouse_path, read_only=True) as con:
        return table_metadata(con, table)


def markdown_table(names: list[str], rows: list[tuple]) -> str:
    def cell(value: object) -> str:
        return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(names) + " |", "|" + "---|" * len(names)]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)
