"""The one atomic-write helper: a reader sees the old complete file or the new one, never a partial file."""

import pytest

from dagster_project.files import atomic_file, atomic_path, write_atomic


def test_write_atomic_replaces_the_file_and_leaves_no_temporary_file(tmp_path):
    target = tmp_path / "report.html"
    target.write_bytes(b"old")
    write_atomic(target, b"new")
    assert target.read_bytes() == b"new"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["report.html"]


def test_a_writer_that_raises_leaves_the_previous_file_and_no_partial_one(tmp_path):
    target = tmp_path / "mart.csv"
    target.write_bytes(b"complete previous export\n")
    with pytest.raises(RuntimeError, match="the query failed"), atomic_file(target) as handle:
        handle.write(b"half of the new exp")
        raise RuntimeError("the query failed")
    assert target.read_bytes() == b"complete previous export\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["mart.csv"]


def test_a_writer_that_raises_before_the_first_file_leaves_nothing(tmp_path):
    target = tmp_path / "release.zip"
    with pytest.raises(ValueError), atomic_path(target) as temporary:
        temporary.write_bytes(b"PK")
        raise ValueError("the generator failed")
    assert list(tmp_path.iterdir()) == []


def test_a_writer_given_a_path_writes_beside_the_target_then_renames(tmp_path):
    target = tmp_path / "data.parquet"
    with atomic_path(target) as temporary:
        assert temporary.parent == tmp_path and temporary != target
        temporary.write_bytes(b"rows")
        assert not target.exists()  # nothing at the target until the writer is done
    assert target.read_bytes() == b"rows" and not temporary.exists()


def test_a_missing_folder_fails_naming_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="absent"):
        write_atomic(tmp_path / "absent" / "out.csv", b"x")
