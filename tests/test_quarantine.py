"""The quarantine's helpers that every JSON source reads its records with."""

import json

from dagster_project.sources import quarantine
from dagster_project.sources.quarantine import BadRow, RowError


def test_json_records_that_cannot_be_read_are_set_apart_with_their_number_reason_and_content():
    def year(record: object) -> int:
        if not isinstance(record, dict) or not isinstance(record.get("year"), int):
            raise RowError(f"no year in {record!r}")
        return record["year"]

    good, bad = quarantine.read_json_records([{"year": 2021}, {"year": "x"}, {"year": 2023}, ["é"]], "a.json", year)
    assert good == [(1, 2021), (3, 2023)]
    assert bad == [BadRow("a.json", 2, "no year in {'year': 'x'}", '{"year": "x"}'),
                   BadRow("a.json", 4, "no year in ['é']", '["é"]')]
    assert [json.loads(row.content) for row in bad] == [{"year": "x"}, ["é"]]
