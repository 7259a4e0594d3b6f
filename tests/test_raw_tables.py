"""raw_tables.py holds every raw table: BACI's, the API sources' and raw.quarantine."""

import duckdb

from dagster_project import raw_tables


def test_every_raw_table_is_created_with_its_columns_and_nothing_else():
    with duckdb.connect() as con:
        raw_tables.create_all(con)
        raw_tables.create_all(con)  # again: nothing changes
        found = con.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw' ORDER BY 1")
        assert [f"raw.{name}" for (name,) in found.fetchall()] == sorted(raw_tables.RAW_TABLES)
        for table in raw_tables.RAW_TABLES:
            assert [row[0] for row in con.execute(f"DESCRIBE {table}").fetchall()] == raw_tables.column_names(table)
    assert {"raw.baci_trade", "raw.baci_files", "raw.quarantine", "raw.comtrade_flows"} <= set(raw_tables.RAW_TABLES)
