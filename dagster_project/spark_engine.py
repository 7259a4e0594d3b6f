"""What the Spark engine (TRADEDEP_ENGINE=spark) needs around its dbt build: the raw tables out as Parquet, and the
tables dbt built back into the warehouse.

The landing and load logic is the same for both engines: the raw assets load the DuckDB warehouse's raw schema.
With Spark, the dbt step first writes each table dbt reads from there as Parquet (partitioned by year where the table
has a year: one folder per year, as a cluster reads them), Spark builds the models from those files (dbt/macros/
raw_sources.sql), and the tables it built (Parquet under its warehouse folder) are read into the DuckDB warehouse,
so the checks, exports and report run on them as on a DuckDB build. No Dagster imports.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import duckdb

from dagster_project import raw_tables


def write_raw_parquet(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]], folder: Path) -> dict[str, int]:
    """Write each (schema, table) under folder/<table>/ as Parquet, partitioned by its year column when it has one
    (folder/<table>/<year column>=<year>/*.parquet); returns the rows written per table.

    Each table's folder is replaced whole: the new files are written beside it, and swapped in by two renames once
    complete, so a failed write leaves the previous files."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for schema, name in tables:
        relation = f'"{schema}"."{name}"'
        rows = con.execute(f"SELECT count(*) FROM {relation}").fetchone()[0]
        year = raw_tables.YEAR_COLUMNS.get(f"{schema}.{name}")
        target, fresh, stale = folder / name, folder / f".{name}.new", folder / f".{name}.old"
        shutil.rmtree(fresh, ignore_errors=True)
        if year and rows:
            con.execute(f"COPY (SELECT * FROM {relation}) TO '{fresh}' (FORMAT parquet, PARTITION_BY ({year}))")
        else:  # an empty table still has its columns in a file: Spark infers a table's columns from its files
            fresh.mkdir()
            con.execute(f"COPY (SELECT * FROM {relation}) TO '{fresh / 'data.parquet'}' (FORMAT parquet)")
        shutil.rmtree(stale, ignore_errors=True)
        if target.exists():
            os.replace(target, stale)
        os.replace(fresh, target)
        shutil.rmtree(stale, ignore_errors=True)
        written[f"{schema}.{name}"] = rows
    return written


def read_built_tables(con: duckdb.DuckDBPyConnection, tables: list[tuple[str, str]], spark_warehouse: Path) -> None:
    """Replace each (schema, table) of the DuckDB warehouse with the table Spark built: the Parquet files of its
    folder under the Spark warehouse (<schema>.db/<table>/, where Spark keeps a schema's tables)."""
    for schema, name in tables:
        files = spark_warehouse / f"{schema}.db" / name
        if not any(files.glob("*.parquet")):
            raise FileNotFoundError(f"Spark built no Parquet files for {schema}.{name} in {files}")
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        con.execute(f'CREATE OR REPLACE TABLE "{schema}"."{name}" AS SELECT * FROM read_parquet(?)',
                    [str(files / "*.parquet")])
