"""Members are copied out of zips with ISA-L's inflate, byte for byte as zipfile would, and refused as zipfile would."""

import io
import random
import zipfile

import pytest

from dagster_project.sources.zip_member import copy_member

MEMBER = "BACI_HS12_Y2019_V202501.csv"


def csv_text(rows: int = 20_000) -> bytes:
    generator = random.Random(7)
    lines = [f"2019,{generator.randint(4, 900)},{generator.randint(4, 900)},{generator.randint(10_000, 999_999):06d},"
             f"{generator.random() * 1000:.3f},{generator.random() * 100:.3f}" for _ in range(rows)]
    return ("t,i,j,k,v,q\n" + "\n".join(lines) + "\n").encode()


def write_zip(path, content: bytes, method=zipfile.ZIP_DEFLATED):
    with zipfile.ZipFile(path, "w", method) as archive:
        archive.writestr("product_codes_HS12_V202501.csv", b"code,description\n010121,Horses\n")
        archive.writestr(MEMBER, content)
    return path


def copied(path) -> bytes:
    target = io.BytesIO()
    assert copy_member(path, MEMBER, target) == len(target.getvalue())
    return target.getvalue()


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_a_member_is_copied_byte_for_byte(tmp_path, method):
    content = csv_text()  # several inflate chunks
    path = write_zip(tmp_path / "release.zip", content, method)
    assert copied(path) == content == zipfile.ZipFile(path).read(MEMBER)


def patched(path, find: bytes, offset: int, value: bytes):
    """Overwrite bytes at an offset from the member's central-directory entry (find=PK\\x01\\x02) or data."""
    data = bytearray(path.read_bytes())
    start = data.rfind(find)
    data[start + offset : start + offset + len(value)] = value
    path.write_bytes(bytes(data))
    return path


def test_a_wrong_crc_is_refused(tmp_path):
    path = patched(write_zip(tmp_path / "release.zip", csv_text()), b"PK\x01\x02", 16, b"\x00\x00\x00\x00")
    with pytest.raises(zipfile.BadZipFile, match="Bad CRC-32"):
        copied(path)


def test_a_member_inflating_past_its_declared_size_is_stopped(tmp_path):
    path = patched(write_zip(tmp_path / "release.zip", csv_text()), b"PK\x01\x02", 24, (1_000).to_bytes(4, "little"))
    target = io.BytesIO()
    with pytest.raises(zipfile.BadZipFile, match="inflates past its declared 1,000 bytes"):
        copy_member(path, MEMBER, target)
    assert len(target.getvalue()) < 2 * 1024 * 1024  # stopped within a chunk, not after inflating everything


def test_damaged_compressed_data_is_refused(tmp_path):
    path = write_zip(tmp_path / "release.zip", csv_text())
    info = zipfile.ZipFile(path).getinfo(MEMBER)
    data = bytearray(path.read_bytes())
    middle = info.header_offset + 30 + len(MEMBER) + info.compress_size // 2
    data[middle : middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    with pytest.raises(zipfile.BadZipFile):
        copied(path)


def test_a_truncated_archive_is_refused(tmp_path):
    path = write_zip(tmp_path / "release.zip", csv_text())
    info = zipfile.ZipFile(path).getinfo(MEMBER)
    data = path.read_bytes()
    # Keep the central directory (so the zip still opens) but cut the member's data short by moving it.
    start = info.header_offset + 30 + len(MEMBER)
    path.write_bytes(data[:start + 100] + data[start + info.compress_size:])
    with pytest.raises(zipfile.BadZipFile):
        copied(path)
