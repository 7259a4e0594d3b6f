"""BACI lands only the members the years need with HTTP range requests, checked, and the whole zip from a server
that serves no ranges; local servers only."""

import json
import random
import re
import zipfile

import pytest
from conftest import RELEASE, release_members, trade_csv, write_zip
from werkzeug import Request, Response

from dagster_project.sources import baci, landing, zip_member, zip_ranges

YEARS = (2019, 2020, 2021)


def served_ranges(log) -> list[tuple[int, int]]:
    """The byte ranges the server sent (first, last), from its log of (request, response)."""
    spans = []
    for _, response in log:
        match = re.fullmatch(r"bytes (\d+)-(\d+)/\d+", response.headers.get("Content-Range", ""))
        if match:
            spans.append((int(match.group(1)), int(match.group(2))))
    return spans


def ranged(content: bytes):
    """A handler serving content with range requests as a file server does (one range per request)."""
    def handle(request: Request) -> Response:
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", request.headers.get("Range", ""))
        if not match:
            return Response(content, status=200)
        first, last = match.groups()
        start = len(content) - int(last) if not first else int(first)
        end = len(content) - 1 if not first or not last else min(int(last), len(content) - 1)
        start = max(start, 0)
        return Response(content[start:end + 1], status=206,
                        headers={"Content-Range": f"bytes {start}-{end}/{len(content)}", "Accept-Ranges": "bytes"})
    return handle


@pytest.fixture
def release(tmp_path):
    """A release of three years, each a few hundred KiB of deflated rows that do not compress away."""
    rows = random.Random(7)
    trade = {year: trade_csv(year, [(rows.randrange(1, 900), 156, f"{rows.randrange(10**6):06d}",
                                     rows.random() * 1e6, rows.random()) for _ in range(20_000)]) for year in YEARS}
    path = write_zip(tmp_path / "served" / RELEASE.zip_name, release_members(trade))
    return path, path.read_bytes()


def ensure(httpserver, folder, years):
    return baci.ensure_release(folder, RELEASE, httpserver.url_for("/baci"), years)


def member_span(archive_path, member) -> tuple[int, int]:
    """The bytes a member takes in the zip: its local header and its data."""
    with zipfile.ZipFile(archive_path) as archive:
        starts = sorted(info.header_offset for info in archive.infolist())
        info = archive.getinfo(member)
    following = [start for start in starts if start > info.header_offset]
    return info.header_offset, (following[0] if following else info.header_offset + info.compress_size) - 1


def test_only_the_members_the_years_need_are_fetched_and_they_read_as_in_the_whole_zip(httpserver, tmp_path, release):
    path, content = release
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_handler(ranged(content))
    landed, downloaded = ensure(httpserver, tmp_path / "raw", (2020,))
    assert downloaded and landed.members == tuple(RELEASE.expected_members((2020,)))
    assert all("Range" in request.headers for request, _ in httpserver.log)
    sent = served_ranges(httpserver.log)
    assert sum(last - first + 1 for first, last in sent) < len(content) / 2
    tail, *members = sent  # the last 64 KiB first (the end records and the central directory), then the members
    assert tail[1] == len(content) - 1 and tail[1] - tail[0] + 1 == zip_ranges.TAIL_BYTES
    for year in (2019, 2021):  # none of the other years' data but what the tail holds
        first, last = member_span(path, RELEASE.trade_member(year))
        assert all(end < first or start > last for start, end in members), (year, sent)
    with zipfile.ZipFile(path) as whole:
        expected = whole.read(RELEASE.trade_member(2020))
    assert zipfile.ZipFile(landed.path).read(RELEASE.trade_member(2020)) == expected  # CRC checked by zipfile too
    assert baci.read_countries(landed.path, RELEASE).height == 5
    with pytest.raises(zipfile.BadZipFile):  # a member not fetched reads as corrupt, never as data
        zip_member.copy_member(landed.path, RELEASE.trade_member(2019), open("/dev/null", "wb"))
    entry = json.loads((tmp_path / "raw" / "manifest.json").read_text())[RELEASE.zip_name]
    assert entry["members"] == list(RELEASE.expected_members((2020,))) and entry["sha256"] == landing.sha256_of(landed.path)


def test_a_landed_subset_is_reused_for_its_years_and_fetched_again_for_more(httpserver, tmp_path, release):
    _, content = release
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_handler(ranged(content))
    ensure(httpserver, tmp_path / "raw", (2020,))
    requests = len(httpserver.log)
    _, downloaded = ensure(httpserver, tmp_path / "raw", (2020,))
    assert not downloaded and len(httpserver.log) == requests
    landed, downloaded = ensure(httpserver, tmp_path / "raw", (2020, 2021))
    assert downloaded and landed.holds(RELEASE.expected_members((2020, 2021)))


def test_a_server_without_ranges_gets_the_whole_zip_downloaded_once(httpserver, tmp_path, release):
    _, content = release
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_data(content)  # ignores Range
    landed, downloaded = ensure(httpserver, tmp_path / "raw", (2020,))
    assert downloaded and landed.members is None and landed.path.read_bytes() == content
    assert len(httpserver.log) == 2  # the range asked for (answered with the whole file, left unread), the download
    assert "members" not in json.loads((tmp_path / "raw" / "manifest.json").read_text())[RELEASE.zip_name]


def test_a_corrupt_member_fails_the_download_and_lands_nothing(httpserver, tmp_path, release):
    path, content = release
    first, last = member_span(path, RELEASE.trade_member(2020))
    middle = (first + last) // 2
    broken = content[:middle] + bytes([content[middle] ^ 0xFF]) + content[middle + 1:]
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_handler(ranged(broken))
    with pytest.raises(landing.DownloadError, match=RELEASE.trade_member(2020)):
        ensure(httpserver, tmp_path / "raw", (2020,))
    assert not (tmp_path / "raw" / RELEASE.zip_name).exists() and not (tmp_path / "raw" / "manifest.json").exists()


def test_a_year_the_release_lacks_fails_naming_it(httpserver, tmp_path, release):
    _, content = release
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_handler(ranged(content))
    with pytest.raises(landing.DownloadError, match=RELEASE.trade_member(2018)):
        ensure(httpserver, tmp_path / "raw", (2018,))


def test_a_zip64_archive_is_read_from_its_zip64_records(httpserver, tmp_path, release, monkeypatch):
    """Real releases pass 4 GiB: their central directory's place is in the zip64 end record."""
    path, _ = release
    with monkeypatch.context() as patched:
        patched.setattr(zipfile, "ZIP64_LIMIT", 1000)  # write zip64 records for a small archive
        with zipfile.ZipFile(path) as source:
            big = write_zip(tmp_path / "zip64" / RELEASE.zip_name, {name: source.read(name) for name in source.namelist()})
    end = big.read_bytes().rfind(b"PK\x05\x06")
    # As in an archive past 4 GiB, the classic end record says "see the zip64 record" for the directory's place.
    content = big.read_bytes()[:end + 16] + b"\xff\xff\xff\xff" + big.read_bytes()[end + 20:]
    big.write_bytes(content)
    assert b"PK\x06\x06" in content[-200:]  # the zip64 end of central directory record
    httpserver.expect_request(f"/baci/{RELEASE.zip_name}").respond_with_handler(ranged(content))
    landed, _ = ensure(httpserver, tmp_path / "raw", (2020,))
    assert zipfile.ZipFile(landed.path).read(RELEASE.trade_member(2020)) == zipfile.ZipFile(big).read(
        RELEASE.trade_member(2020))
