"""The raw tables of the API sources (BACI's are in sources/baci.py): names and column types.

Every raw table exists even when its source is switched off (TRADEDEP_SOURCES), so the dbt models
over it build, empty, and the marts say which sources they were built from.
"""

import duckdb

from dagster_project.sources import baci

# Each table: the parser's columns, then whether the rows are the synthetic sample. Which files were
# loaded is in the landing folder's manifest.json and the raw asset's metadata.
RAW_TABLES = {
    "raw.comtrade_flows": """
        freq_code VARCHAR NOT NULL, ref_year SMALLINT NOT NULL, ref_month SMALLINT, reporter_code INTEGER NOT NULL,
        flow_code VARCHAR NOT NULL, partner_code INTEGER NOT NULL, partner2_code INTEGER, classification_code VARCHAR,
        cmd_code VARCHAR NOT NULL, mot_code INTEGER, customs_code VARCHAR, cif_value DOUBLE, fob_value DOUBLE,
        primary_value DOUBLE, qty DOUBLE, net_wgt DOUBLE, is_reported BOOLEAN, is_aggregate BOOLEAN,
        synthetic BOOLEAN NOT NULL""",
    "raw.oecd_tiva": """
        measure VARCHAR NOT NULL, ref_area VARCHAR NOT NULL, activity VARCHAR NOT NULL, counterpart_area VARCHAR,
        unit_measure VARCHAR, year SMALLINT NOT NULL, value_usd DOUBLE,
        synthetic BOOLEAN NOT NULL""",
    "raw.worldbank_indicators": """
        indicator_id VARCHAR NOT NULL, indicator_name VARCHAR, country_iso3 VARCHAR NOT NULL, country_name VARCHAR,
        year SMALLINT NOT NULL, value DOUBLE, unit VARCHAR, obs_status VARCHAR, decimal INTEGER,
        synthetic BOOLEAN NOT NULL""",
}


def create_all(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table that does not exist yet (BACI's included).

    A table left by an older version with other columns is dropped and created anew: its rows come from the
    landing zone, so its raw asset loads them again.
    """
    baci.create_raw_tables(con)
    for table, columns in RAW_TABLES.items():
        schema, name = table.split(".")
        present = [row[0] for row in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ? "
            "ORDER BY ordinal_position", [schema, name]).fetchall()]
        if present and present != column_names(table):
            con.execute(f"DROP TABLE {table}")
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({columns})")


def column_names(table: str) -> list[str]:
    """The columns of a raw table, in order."""
    return [column.split()[0] for column in RAW_TABLES[table].split(",")]
