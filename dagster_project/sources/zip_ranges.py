"""Land only some members of a remote zip with HTTP range requests: its central directory, then each member.

The landed file keeps the remote zip's layout and size: the bytes fetched are written at their offsets in a sparse
file, the rest left as holes. It is a zip whose central directory lists every member, of which only the fetched
ones hold their data, so zipfile and zip_member read and check those (CRC-32 and size) as in a whole download;
reading another fails as corrupt. A server that does not serve ranges answers the first request with the whole
file (HTTP 200): then nothing is fetched here, and the caller downloads the whole file. No Dagster imports.
"""

from __future__ import annotations

import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from dagster_project.files import atomic_path
from dagster_project.sources import zip_member

TAIL_BYTES = 1 << 16  # holds the end of central directory records and any archive comment (at most 64 KiB)
END_RECORD = struct.Struct("<4s4H2LH")  # end of central directory (APPNOTE 4.3.16)
ZIP64_LOCATOR = struct.Struct("<4sLQL")  # zip64 end of central directory locator (4.3.15)
ZIP64_END_RECORD = struct.Struct("<4sQ2H2L4Q")  # zip64 end of central directory record (4.3.14)


# Fetches one range ("bytes=-65536", "bytes=0-99"): its bytes and the remote file's size; None when the server
# answers with the whole file instead (it serves no ranges).
FetchRange = Callable[[str], "tuple[bytes, int] | None"]


class RangesUnsupported(Exception):
    """The server answered a range request with the whole file."""


class _NullSink:
    def write(self, chunk: bytes) -> int:
        return len(chunk)


def fetch_members(fetch: FetchRange, members: list[str], target: Path) -> int:
    """Write at target the remote zip with only `members` fetched, each checked (CRC-32, size); returns the bytes
    fetched. Raises RangesUnsupported when the server does not serve ranges (target untouched), zipfile.BadZipFile
    when the archive or a member is corrupt, KeyError when a member is not in the archive."""
    with atomic_path(target) as partial:
        tail, total = _fetch(fetch, f"bytes=-{TAIL_BYTES}")
        with partial.open("w+b") as handle:
            handle.truncate(total)
            _write_at(handle, total - len(tail), tail)
            directory = _central_directory_offset(fetch, handle, tail, total)
            fetched = len(tail) + _fetch_missing(fetch, handle, directory, total - len(tail))
        with zipfile.ZipFile(partial) as archive:
            starts = sorted({info.header_offset for info in archive.infolist()} | {directory})
            wanted = [archive.getinfo(member) for member in members]  # KeyError for a member it lacks
        with partial.open("r+b") as handle:
            for info in wanted:
                end = next(start for start in starts if start > info.header_offset)  # the next member or directory
                fetched += _fetch_missing(fetch, handle, info.header_offset, end)
        for member in members:
            zip_member.copy_member(partial, member, _NullSink())  # raises zipfile.BadZipFile unless it checks out
    return fetched


def _fetch(fetch: FetchRange, byte_range: str) -> tuple[bytes, int]:
    answer = fetch(byte_range)
    if answer is None:
        raise RangesUnsupported(byte_range)
    return answer


def _fetch_missing(fetch: FetchRange, handle: BinaryIO, start: int, end: int) -> int:
    """Fetch bytes [start, end) into the file at their offset; 0 when the range is empty."""
    if end <= start:
        return 0
    body, _ = _fetch(fetch, f"bytes={start}-{end - 1}")
    if len(body) != end - start:
        raise zipfile.BadZipFile(f"bytes {start}-{end - 1} came as {len(body)} bytes")
    _write_at(handle, start, body)
    return len(body)


def _write_at(handle: BinaryIO, offset: int, data: bytes) -> None:
    handle.seek(offset)
    handle.write(data)


def _central_directory_offset(fetch: FetchRange, handle: BinaryIO, tail: bytes, total: int) -> int:
    """Where the central directory starts, from the end record (zip64's when the archive needs it)."""
    at = tail.rfind(b"PK\x05\x06")
    if at < 0 or at + END_RECORD.size > len(tail):
        raise zipfile.BadZipFile(f"no end of central directory record in the last {len(tail)} bytes")
    *_, entries, size, offset, _comment = END_RECORD.unpack_from(tail, at)
    if offset != 0xFFFFFFFF and size != 0xFFFFFFFF and entries != 0xFFFF:
        return offset
    locator_at = at - ZIP64_LOCATOR.size
    signature, _disk, record_offset, _disks = ZIP64_LOCATOR.unpack_from(tail, locator_at)
    if signature != b"PK\x06\x07":
        raise zipfile.BadZipFile("a zip64 archive without its zip64 locator")
    tail_start = total - len(tail)
    if record_offset < tail_start:  # the zip64 record lies before the tail: fetch it
        _fetch_missing(fetch, handle, record_offset, record_offset + ZIP64_END_RECORD.size)
    handle.seek(record_offset)
    record = ZIP64_END_RECORD.unpack(handle.read(ZIP64_END_RECORD.size))
    if record[0] != b"PK\x06\x06":
        raise zipfile.BadZipFile("bad zip64 end of central directory record")
    return record[-1]
