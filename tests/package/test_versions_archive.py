"""The archive of versions (and the plans' datasets) moved into a swap, not linked file by file; put back
when the swap fails or is killed (``kehoach.core.files.move_into``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from corpus import amend, write_corpus
from helpers import PLAN_FILE

from kehoach import build
from kehoach.core.files import MOVED_FILE, exclusive_lock, made_in_moved, move_into


def _versions(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted((out / "versions").rglob("*")) if p.is_file()}


@pytest.fixture
def three_versions(tmp_path) -> tuple[list[Path], Path]:
    """A 2-plan corpus built, then amended twice: versions 1.0.0 and 1.1.0 archived."""
    paths = write_corpus(PLAN_FILE, tmp_path / "corpus", 2)
    out = tmp_path / "out"
    unvalidated = build.Steps(validate=lambda *args: None)
    build.run_build(paths, out, steps=unvalidated)
    amend(paths[1])
    build.run_build(paths, out, steps=unvalidated)
    return paths, out


def test_a_swap_moves_the_archive_of_versions_in_not_its_files(three_versions):
    """One rename: a year of daily refreshes linked every file of every version again at each swap."""
    paths, out = three_versions
    folder, before = (out / "versions").stat().st_ino, _versions(out)
    amend(paths[0])
    build.run_build(paths, out, steps=build.Steps(validate=lambda *args: None))
    assert (out / "versions").stat().st_ino == folder
    assert {k: v for k, v in _versions(out).items() if not k.startswith("versions/1.1.0/")} == before
    assert "versions/1.1.0/datapackage.json" in _versions(out) and not (out / MOVED_FILE).exists()


def test_a_failed_swap_puts_the_archive_back_without_the_version_it_was_archiving(three_versions, monkeypatch):
    paths, out = three_versions
    before = _versions(out)
    amend(paths[0])

    def refused(new, target):
        raise PermissionError(13, "Permission denied", str(target))
    monkeypatch.setattr(build, "swap_in", refused)
    with pytest.raises(PermissionError):
        build.run_build(paths, out, steps=build.Steps(validate=lambda *args: None))
    assert _versions(out) == before and not (out / "versions" / "1.1.0").exists()
    assert [p.name for p in out.parent.iterdir() if ".staging-" in p.name] == []


def test_a_killed_swap_leaves_the_archive_for_the_next_build_to_put_back(three_versions):
    """Killed once the archive was moved into its staging folder and the version in place half archived."""
    _, out = three_versions
    before = _versions(out)
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    staging = out.parent / f".out.staging-{dead.stdout.strip()}"
    staging.mkdir()
    move_into(staging, out, ("versions", "plans"))
    half = made_in_moved(staging, "versions/1.1.0")
    half.mkdir()
    (half / "datapackage.json").write_text("{", encoding="utf-8")
    assert not (out / "versions").exists()
    with exclusive_lock(out):
        assert _versions(out) == before and not (out / "versions" / "1.1.0").exists()
    assert not staging.exists()


def test_a_swap_that_cannot_move_the_second_folder_puts_the_first_back(three_versions, monkeypatch):
    paths, out = three_versions
    (out / "plans").mkdir()
    (out / "plans" / "kept.txt").write_text("a plan's dataset", encoding="utf-8")
    before = _versions(out)
    amend(paths[0])
    rename = os.rename

    def refusing(src, dst):
        if Path(src) == out / "plans":
            raise PermissionError(13, "Permission denied", str(src))
        rename(src, dst)
    monkeypatch.setattr(os, "rename", refusing)
    with pytest.raises(PermissionError):
        build.run_build(paths, out, steps=build.Steps(validate=lambda *args: None))
    monkeypatch.setattr(os, "rename", rename)
    assert _versions(out) == before and (out / "plans" / "kept.txt").read_text(encoding="utf-8") == "a plan's dataset"
