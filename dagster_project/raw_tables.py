"""Every raw table, BACI's and raw.quarantine included: names and column types, created in one place.

Every raw table exists even when its source is switched off (TRADEDEP_SOURCES), so the dbt models
over it build, empty, and the marts say which sources they were built from. No Dagster imports.
"""

import duckdb

# Each source table: the parser's columns, then whether the rows are the synthetic sample. Which BACI files were
# loaded is in raw.baci_files; which API answers, in the landing folder's manifest.json and the raw asset's metadata.
RAW_TABLES = {
    "raw.baci_trade": """
        t SMALLINT NOT NULL, i INTEGER NOT NULL, j INTEGER NOT NULL, k VARCHAR NOT NULL,
        v DOUBLE NOT NULL, q DOUBLE, hs_revision VARCHAR NOT NULL, release VARCHAR NOT NULL, synthetic BOOLEAN NOT NULL""",
    "raw.baci_countries": """
        country_code INTEGER NOT NULL, country_name VARCHAR, country_iso2 VARCHAR, country_iso3 VARCHAR,
        release VARCHAR NOT NULL""",
    "raw.baci_products": """
        code VARCHAR NOT NULL, description VARCHAR, hs_revision VARCHAR NOT NULL, release VARCHAR NOT NULL""",
    "raw.baci_files": """
        member VARCHAR NOT NULL, hs_revision VARCHAR NOT NULL, release VARCHAR NOT NULL, zip_file VARCHAR NOT NULL,
        zip_sha256 VARCHAR NOT NULL, source_url VARCHAR NOT NULL, synthetic BOOLEAN NOT NULL,
        row_count BIGINT NOT NULL, loaded_at TIMESTAMP NOT NULL""",
    # The rows of every source's landed files that could not be read (sources/quarantine.py).
    "raw.quarantine": """
        source VARCHAR NOT NULL, file VARCHAR NOT NULL, line BIGINT NOT NULL, reason VARCHAR NOT NULL,
        content VARCHAR, quarantined_at TIMESTAMP NOT NULL""",
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

# The year column of each raw table that has one: the Parquet copy for Spark is partitioned by it (spark_engine.py).
YEAR_COLUMNS = {"raw.baci_trade": "t", "raw.comtrade_flows": "ref_year", "raw.oecd_tiva": "year",
                "raw.worldbank_indicators": "year"}


def create_all(con: duckdb.DuckDBPyConnection) -> None:
    """Create every raw table that does not exist yet.

    A table left by an older version with other columns is dropped and created anew: its rows come from the
    landing zone, so its raw asset loads them again.
    """
    con.execute("CREATE SCHEMA IF NOT EXISTS raw")
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
