"""The files of the package in place as its descriptor records them (``layout.RecordedFiles``): a file
whose status is the one signed with the descriptor is not read again; any other is hashed."""

from __future__ import annotations

import hashlib
import json
import os

from kehoach.package import layout
from kehoach.package.layout import RecordedFiles, sign_files

ROWS = b"plan_id,amount\nqni-219,360\n"


def _package(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "budget_lines.csv").write_bytes(ROWS)
    desc = {"resources": [{"name": "budget_lines", "path": "data/budget_lines.csv",
                           "hash": f"sha256:{hashlib.sha256(ROWS).hexdigest()}"}]}
    (tmp_path / "datapackage.json").write_text(json.dumps(desc), encoding="utf-8")
    sign_files(tmp_path, desc)
    return tmp_path / "data" / "budget_lines.csv"


def _hashes_counted(monkeypatch) -> list:
    read = []
    real = layout.sha256_file
    monkeypatch.setattr(layout, "sha256_file", lambda path: read.append(path) or real(path))
    return read


def test_a_signed_file_is_trusted_without_being_read(tmp_path, monkeypatch):
    _package(tmp_path)
    read = _hashes_counted(monkeypatch)
    assert RecordedFiles(tmp_path).holds("data/budget_lines.csv")
    assert read == []
    assert not RecordedFiles(tmp_path).holds("data/tasks.csv")  # not recorded


def test_a_file_edited_since_it_was_signed_is_read_and_refused(tmp_path, monkeypatch):
    path = _package(tmp_path)
    signed = path.stat()
    path.write_bytes(ROWS.replace(b"360", b"999"))  # same size, another cell
    os.utime(path, ns=(signed.st_atime_ns, signed.st_mtime_ns + 1))  # an edit within the clock's tick too
    read = _hashes_counted(monkeypatch)
    assert not RecordedFiles(tmp_path).holds("data/budget_lines.csv")
    assert read == [path]
    path.write_bytes(ROWS)  # the recorded bytes again: read, and taken
    assert RecordedFiles(tmp_path).holds("data/budget_lines.csv") and len(read) == 2


def test_without_signatures_every_file_is_read(tmp_path, monkeypatch):
    path = _package(tmp_path)
    (tmp_path / layout.STATE_DIR / layout.SIGNATURES_FILE).unlink()
    read = _hashes_counted(monkeypatch)
    assert RecordedFiles(tmp_path).holds("data/budget_lines.csv") and read == [path]


def test_a_symbolic_link_in_place_is_never_taken_for_the_file(tmp_path):
    path = _package(tmp_path)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.csv"
    outside.write_bytes(ROWS)
    path.unlink()
    path.symlink_to(outside)  # the recorded bytes, but from outside the package
    assert not RecordedFiles(tmp_path).holds("data/budget_lines.csv")


def test_a_staged_file_linked_from_a_signed_one_is_vouched_for_and_a_copy_is_not(tmp_path):
    package = tmp_path / "package"
    package.mkdir()
    path = _package(package)
    staged = tmp_path / "staged"
    staged.mkdir()
    os.link(path, staged / "linked.csv")
    (staged / "copied.csv").write_bytes(ROWS)
    recorded = RecordedFiles(package).hashes["data/budget_lines.csv"]
    vouching = RecordedFiles(package)
    assert vouching.vouches_for(staged / "linked.csv", "data/budget_lines.csv", recorded)
    assert not vouching.vouches_for(staged / "copied.csv", "data/budget_lines.csv", recorded)  # another inode
    assert not vouching.vouches_for(staged / "linked.csv", "data/budget_lines.csv", "sha256:another")
