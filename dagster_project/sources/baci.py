"""CEPII BACI: the release zip, its members, and typed loads into DuckDB.

A release is one zip per HS revision (BACI_HS12_V202501.zip) holding a CSV per year
(BACI_HS12_Y2019_V202501.csv: t,i,j,k,v,q), country_codes_V202501.csv and
product_codes_HS12_V202501.csv. Plain Python: no Dagster imports.
"""

from __future__ import annotations

import io
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import duckdb
import polars as pl

from dagster_project import raw_tables
from dagster_project.sources import landing, quarantine, zip_member
from dagster_project.warehouse import swap_rows, transaction

TRADE_COLUMNS = {"t": "SMALLINT", "i": "INTEGER", "j": "INTEGER", "k": "VARCHAR", "v": "DOUBLE", "q": "VARCHAR"}
COUNTRY_SCHEMA = {"country_code": pl.Int32, "country_name": pl.String, "country_iso2": pl.String, "country_iso3": pl.String}
PRODUCT_SCHEMA = {"code": pl.String, "description": pl.String}
# Zip-bomb guard: BACI CSVs deflate about 3-10x; a member claiming far more is refused before extraction.
MAX_COMPRESSION_RATIO = 200


class BaciFormatError(ValueError):
    """A BACI file is not in the expected format; the message names the file and what is wrong."""


@dataclass(frozen=True)
class Release:
    """One BACI release of one HS revision."""

    hs_revision: str
    release: str

    @property
    def zip_name(self) -> str:
        return f"BACI_{self.hs_revision}_{self.release}.zip"

    def trade_member(self, year: int) -> str:
        return f"BACI_{self.hs_revision}_Y{year}_{self.release}.csv"

    @property
    def countries_member(self) -> str:
        return f"country_codes_{self.release}.csv"

    @property
    def products_member(self) -> str:
        return f"product_codes_{self.hs_revision}_{self.release}.csv"

    def expected_members(self, years: tuple[int, ...]) -> list[str]:
        return [self.countries_member, self.products_member, *(self.trade_member(year) for year in years)]

    def url(self, base_url: str) -> str:
        return f"{base_url.rstrip('/')}/{self.zip_name}"


@dataclass(frozen=True)
class LoadStats:
    rows: int
    bytes: int
    member: str
    quarantined: int = 0
    unchanged: bool = False  # the year was already loaded from this very zip: kept, not read again


def list_members(zip_path: Path) -> dict[str, int]:
    """Member names and uncompressed sizes, refusing unsafe names (absolute or with '..')."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError) as error:
        raise BaciFormatError(f"{zip_path} is not a readable zip archive: {error}") from error
    members = {}
    for info in infos:
        name = PurePosixPath(info.filename)
        if name.is_absolute() or ".." in name.parts or "\\" in info.filename:
            raise BaciFormatError(f"{zip_path}: refusing unsafe member name {info.filename!r}")
        members[info.filename] = info.file_size
    return members


def trade_years(zip_path: Path, release: Release) -> list[int]:
    """Years for which the zip holds a trade CSV."""
    pattern = re.compile(rf"BACI_{release.hs_revision}_Y(\d{{4}})_{release.release}\.csv")
    return sorted(int(m.group(1)) for name in list_members(zip_path) if (m := pattern.fullmatch(name)))


def verify_release_zip(zip_path: Path, release: Release, years: tuple[int, ...]) -> None:
    """Raise BaciFormatError unless the zip opens and holds every member the configured years need."""
    members = list_members(zip_path)
    missing = [name for name in release.expected_members(years) if name not in members]
    if missing:
        raise BaciFormatError(f"{zip_path} lacks the expected members: {', '.join(missing)}")


@contextmanager
def extracted_member(zip_path: Path, member: str, scratch_dir: Path) -> Iterator[Path]:
    """Stream one member to a temporary file (bounded memory), yield its path, then delete it.

    Only this member is written to disk, never the whole archive. A member whose declared size is
    implausible for a CSV is refused before anything is written; one that inflates past its declared size,
    or whose CRC-32 does not match, is refused as corrupt (zip_member). The file's name carries the process
    id, so what a killed process left behind is deleted by the next extraction.
    """
    check_member_size(zip_path, member)
    scratch_dir.mkdir(parents=True, exist_ok=True)
    remove_orphaned_extracts(scratch_dir)
    handle, name = tempfile.mkstemp(prefix=f".extract-{os.getpid()}-", suffix=".csv", dir=scratch_dir)
    path = Path(name)
    try:
        with open(handle, "wb") as target:
            zip_member.copy_member(zip_path, member, target)
        yield path
    except zipfile.BadZipFile as error:
        raise BaciFormatError(f"{zip_path}: member {member} is corrupt: {error}") from error
    finally:
        path.unlink(missing_ok=True)


def remove_orphaned_extracts(scratch_dir: Path) -> None:
    """Delete members extracted by processes that no longer run (e.g. a build killed in the middle of a load)."""
    for path in scratch_dir.glob(".extract-*.csv"):
        pid = path.name.split("-")[1]
        if pid.isdigit() and not _process_running(int(pid)):
            path.unlink(missing_ok=True)


def _process_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def check_member_size(zip_path: Path, member: str) -> None:
    """Refuse a missing member, or one whose uncompressed size is far beyond what its compressed size allows."""
    with zipfile.ZipFile(zip_path) as archive:
        try:
            info = archive.getinfo(member)
        except KeyError:
            raise BaciFormatError(f"{zip_path} has no member {member}") from None
    if info.file_size > MAX_COMPRESSION_RATIO * max(info.compress_size, 1024):
        raise BaciFormatError(
            f"{zip_path}: member {member} claims {info.file_size:,} bytes from {info.compress_size:,} compressed "
            f"(over {MAX_COMPRESSION_RATIO}x): refused as a possible zip bomb"
        )


def check_header(path: Path, expected: list[str], label: str) -> None:
    with path.open("r", encoding="utf-8", errors="replace") as handle:
        header = handle.readline().strip().lstrip("\ufeff")
    if not header:
        raise BaciFormatError(f"{label} is empty: expected a header line {','.join(expected)} and rows")
    found = [column.strip().strip('"') for column in header.split(",")]
    if found != expected:
        raise BaciFormatError(f"{label}: line 1 has columns {found}, expected {expected}")


def load_trade_year(
    con: duckdb.DuckDBPyConnection,
    zip_path: Path,
    release: Release,
    year: int,
    source: dict[str, object],
    scratch_dir: Path,
    max_bad_row_share: float = 0.001,
    skip_unchanged: bool = False,
) -> LoadStats:
    """Replace one year of raw.baci_trade from the zip, in one transaction.

    `source` is the landed file's manifest entry (url, sha256, synthetic). Rows that cannot be parsed
    (a value that is not a number, a wrong column count) go to raw.quarantine with their line and reason;
    past `max_bad_row_share` of the rows, or for a row that breaks BACI's invariants, the load fails with
    the file, line and field named and the year's previous rows stay as they were. With `skip_unchanged`,
    a year already loaded from the same zip (see unchanged_load) is kept as it is.
    """
    member = release.trade_member(year)
    label = f"{zip_path.name}:{member}"
    raw_tables.create_all(con)
    if skip_unchanged and (kept := unchanged_load(con, zip_path, release, year, source, max_bad_row_share)):
        return kept
    with extracted_member(zip_path, member, scratch_dir) as csv_path:
        check_header(csv_path, list(TRADE_COLUMNS), label)
        with transaction(con):
            con.execute("DELETE FROM raw.baci_trade WHERE t = ? AND hs_revision = ?", [year, release.hs_revision])
            rows = _insert_trade(con, csv_path, label, release, year, bool(source["synthetic"]))
            rejected = _quarantine(con, label)
            too_many = quarantine.too_many_message(label, rows, [(line, reason) for line, reason, _ in rejected],
                                                   max_bad_row_share)
            if too_many:
                raise BaciFormatError(too_many)
            if rows == 0:  # BACI has flows every year: an empty file must not wipe the year
                raise BaciFormatError(f"{label}: no rows after the header line; the year's previous rows are kept")
            _record_file(con, member, zip_path, release, source, rows)
        size = csv_path.stat().st_size
    return LoadStats(rows=rows, bytes=size, member=member, quarantined=len(rejected))


def unchanged_load(
    con: duckdb.DuckDBPyConnection, zip_path: Path, release: Release, year: int, source: dict[str, object],
    max_bad_row_share: float,
) -> LoadStats | None:
    """The year's last load when it came from a zip with the same sha256 (so the same member bytes), the
    table still holds exactly the rows it recorded, and its quarantined rows are within today's share; else None."""
    member = release.trade_member(year)
    label = f"{zip_path.name}:{member}"
    found = con.execute(
        """SELECT row_count,
                  (SELECT count(*) FROM raw.baci_trade
                   WHERE t = $year AND hs_revision = $revision AND release = $release AND synthetic = $synthetic),
                  (SELECT count(*) FROM raw.quarantine WHERE source = 'baci' AND file = $label)
           FROM raw.baci_files
           WHERE member = $member AND hs_revision = $revision AND release = $release AND zip_file = $zip
             AND zip_sha256 = $sha256 AND synthetic = $synthetic""",
        {"year": year, "revision": release.hs_revision, "release": release.release, "synthetic": bool(source["synthetic"]),
         "label": label, "member": member, "zip": zip_path.name, "sha256": source["sha256"]},
    ).fetchall()
    if not found:
        return None
    recorded, present, quarantined = found[0]
    if present != recorded or quarantined > max_bad_row_share * (recorded + quarantined):
        return None
    with zipfile.ZipFile(zip_path) as archive:
        size = archive.getinfo(member).file_size
    return LoadStats(rows=recorded, bytes=size, member=member, quarantined=quarantined, unchanged=True)


def _quarantine(con: duckdb.DuckDBPyConnection, label: str) -> list[tuple[int, str, str]]:
    """Move the rows DuckDB rejected in the last scan to raw.quarantine: (line, reason, content) per line."""
    rejected = con.execute(
        """SELECT line,
                  string_agg(DISTINCT error_type || coalesce(' in column "' || column_name || '"', '')
                             || ': ' || error_message, '; '),
                  any_value(csv_line)
           FROM trade_rejects GROUP BY line ORDER BY line"""
    ).fetchall()
    quarantine.replace(con, "baci", [label], [quarantine.BadRow(label, *row) for row in rejected])
    return rejected


def _insert_trade(
    con: duckdb.DuckDBPyConnection, csv_path: Path, label: str, release: Release, year: int, synthetic: bool
) -> int:
    columns = ", ".join(f"'{name}': '{kind}'" for name, kind in TRADE_COLUMNS.items())
    # Rejected rows of earlier scans would otherwise accumulate in the (temporary) rejects tables.
    con.execute("DROP TABLE IF EXISTS trade_rejects")
    con.execute("DROP TABLE IF EXISTS trade_reject_scans")
    try:
        # q is read as text: BACI marks missing quantities as NA, sometimes padded with spaces; it is parsed
        # once, in the subquery. The WHERE clause rejects rows that break BACI's invariants in the same single pass.
        result = con.execute(
            f"""INSERT INTO raw.baci_trade
                SELECT t, i, j, k, v, q_value, $revision, $release, $synthetic
                FROM (SELECT *, TRY_CAST(nullif(nullif(trim(q), ''), 'NA') AS DOUBLE) AS q_value
                      FROM read_csv($path, header = true, delim = ',', quote = '"', columns = {{{columns}}},
                                    auto_detect = false, strict_mode = true, store_rejects = true,
                                    rejects_table = 'trade_rejects', rejects_scan = 'trade_reject_scans'))
                WHERE CASE
                    WHEN t IS DISTINCT FROM $year THEN error(format('a row has year t={{}}, expected {{}}', t, $year))
                    WHEN i IS NULL OR j IS NULL THEN error('a row has an empty exporter i or importer j')
                    WHEN NOT regexp_full_match(coalesce(k, ''), '[0-9]{{6}}')
                        THEN error(format('a row has product k={{}}, expected 6 digits', k))
                    WHEN v IS NULL OR v < 0 THEN error(format('a row has value v={{}} (exporter {{}}, product {{}})', v, i, k))
                    WHEN q_value IS NULL AND trim(q) NOT IN ('', 'NA')
                        THEN error(format('a row has quantity q={{}} (exporter {{}}, product {{}})', q, i, k))
                    ELSE true END""",
            {"revision": release.hs_revision, "release": release.release, "synthetic": synthetic, "path": str(csv_path), "year": year},
        ).fetchall()
    except duckdb.Error as error:
        raise BaciFormatError(f"{label}: {_first_lines(str(error))}") from error
    return int(result[0][0])


def _record_file(
    con: duckdb.DuckDBPyConnection, member: str, zip_path: Path, release: Release, source: dict[str, object], rows: int
) -> None:
    con.execute("DELETE FROM raw.baci_files WHERE member = ?", [member])
    con.execute(
        "INSERT INTO raw.baci_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, current_timestamp::TIMESTAMP)",
        [member, release.hs_revision, release.release, zip_path.name, source["sha256"], source["url"],
         bool(source["synthetic"]), rows],
    )


def read_countries(zip_path: Path, release: Release) -> pl.DataFrame:
    """The country codes file, typed, with names decoded (BACI double-encodes UTF-8)."""
    frame = _read_small_csv(zip_path, release.countries_member, COUNTRY_SCHEMA)
    return frame.with_columns(pl.col("country_name").map_elements(fix_double_encoding, return_dtype=pl.String))


def read_products(zip_path: Path, release: Release) -> pl.DataFrame:
    """The product codes file, typed (codes as text: they keep their leading zeros)."""
    frame = _read_small_csv(zip_path, release.products_member, PRODUCT_SCHEMA)
    bad = frame.filter(~pl.col("code").str.contains(r"^\d{6}$"))
    if bad.height:
        raise BaciFormatError(
            f"{zip_path.name}:{release.products_member}: {bad.height} codes are not 6 digits, e.g. {bad['code'][0]!r}"
        )
    return frame


def fix_double_encoding(name: str | None) -> str | None:
    """Undo UTF-8 read as Latin-1 and re-encoded ('CÃ´te' -> 'Côte'); leave clean text alone."""
    if name is None:
        return None
    try:
        return name.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return name


def _read_small_csv(zip_path: Path, member: str, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    label = f"{zip_path.name}:{member}"
    members = list_members(zip_path)
    if member not in members:
        raise BaciFormatError(f"{zip_path} has no member {member}")
    with zipfile.ZipFile(zip_path) as archive:
        content = archive.read(member)
    header = content.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip().lstrip("\ufeff")
    if [column.strip() for column in header.split(",")] != list(schema):
        raise BaciFormatError(f"{label}: line 1 has columns {header!r}, expected {','.join(schema)}")
    try:
        return pl.read_csv(io.BytesIO(content), schema=schema)
    except pl.exceptions.PolarsError as error:
        raise BaciFormatError(f"{label}: {_first_lines(str(error))}") from error


def _first_lines(message: str, count: int = 4) -> str:
    return " | ".join(line.strip() for line in message.strip().splitlines()[:count] if line.strip())



def ensure_release(
    landing_dir: Path,
    release: Release,
    base_url: str,
    years: tuple[int, ...],
    refresh: bool = False,
    progress: landing.Progress | None = None,
) -> tuple[landing.LandedFile, bool]:
    """Land the release zip unless a verified copy holding the years' members is present; return it and whether it
    was downloaded. Only the members the years need are fetched, with range requests (zip_ranges), when the server
    serves ranges; else the whole zip."""
    path, needed = landing_dir / release.zip_name, release.expected_members(years)
    present = landing.reusable(path, refresh)
    if present is not None and present.holds(needed):
        verify_release_zip(path, release, years)
        return present, False
    landed = landing.download_members(release.url(base_url), path, needed, source="CEPII BACI")
    if landed is None:  # no range requests there
        landed = landing.download(
            release.url(base_url),
            path,
            source="CEPII BACI",
            verify=lambda candidate: verify_release_zip(candidate, release, years),
            progress=progress,
        )
    return landed, True


def load_countries(con: duckdb.DuckDBPyConnection, zip_path: Path, release: Release, source: dict[str, object]) -> LoadStats:
    """Replace raw.baci_countries with the release's country list, in one transaction."""
    frame = read_countries(zip_path, release).with_columns(pl.lit(release.release).alias("release"))
    return _replace_reference(con, "raw.baci_countries", "TRUE", [], frame, zip_path, release, release.countries_member, source)


def load_products(con: duckdb.DuckDBPyConnection, zip_path: Path, release: Release, source: dict[str, object]) -> LoadStats:
    """Replace the revision's rows of raw.baci_products with the release's product list, in one transaction."""
    frame = read_products(zip_path, release).with_columns(
        pl.lit(release.hs_revision).alias("hs_revision"), pl.lit(release.release).alias("release")
    )
    return _replace_reference(
        con, "raw.baci_products", "hs_revision = ?", [release.hs_revision], frame, zip_path, release,
        release.products_member, source,
    )


def _replace_reference(
    con: duckdb.DuckDBPyConnection,
    table: str,
    where: str,
    params: list[object],
    frame: pl.DataFrame,
    zip_path: Path,
    release: Release,
    member: str,
    source: dict[str, object],
) -> LoadStats:
    raw_tables.create_all(con)
    with transaction(con):
        swap_rows(con, table, frame, where, params)
        _record_file(con, member, zip_path, release, source, frame.height)
    with zipfile.ZipFile(zip_path) as archive:
        size = archive.getinfo(member).file_size
    return LoadStats(rows=frame.height, bytes=size, member=member)
