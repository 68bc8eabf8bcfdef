"""Where the local CKAN keeps its state (``local-ckan.sh home``, asked without starting anything).

PostgreSQL runs as its own OS user when the script runs as root: a clone below a private
folder (a Debian home, mode 700) is out of that user's reach, and the state then goes to a
folder of the clone's own in /var/tmp. LOCAL_CKAN_HOME always wins.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from ckan_helpers import SCRIPT, state_folder

FALLBACK_PARENT = Path("/var/tmp")  # path as data, not read


def clone_in(parent: Path) -> Path:
    """A clone's layout holding the script (it finds the clone from its own place)."""
    clone = parent / "kehoach"
    script = clone / "scripts" / "ckan" / "local-ckan.sh"
    script.parent.mkdir(parents=True)
    shutil.copy2(SCRIPT, script)
    return clone


def home(clone: Path, **settings: str) -> Path:
    env = {k: v for k, v in os.environ.items() if k != "LOCAL_CKAN_HOME"} | settings
    return state_folder(clone / "scripts" / "ckan" / "local-ckan.sh", env)


def fallback(clone: Path) -> Path:
    digest = hashlib.sha256(str(clone.resolve()).encode()).hexdigest()[:12]
    return FALLBACK_PARENT.resolve() / f"kehoach-ckan-{digest}"


@pytest.fixture
def private_clone(tmp_path) -> Path:
    private = tmp_path / "private-home"
    private.mkdir(mode=0o700)
    private.chmod(0o700)  # whatever the umask
    return clone_in(private)


@pytest.fixture
def open_clone() -> Iterator[Path]:
    """A clone below folders every user can pass through (pytest's own temporary folder is private)."""
    parent = Path(tempfile.mkdtemp(prefix="kehoach-open-", dir=FALLBACK_PARENT))
    parent.chmod(0o755)
    try:
        yield clone_in(parent)
    finally:
        shutil.rmtree(parent)


def test_private_parent_sends_the_state_to_var_tmp(private_clone):
    """As root (PostgreSQL runs as 'postgres'), a private folder above the clone: the state goes to
    /var/tmp, one folder per clone, named from its real path; asking creates nothing. Run as another
    user, PostgreSQL runs as that user, who reaches the clone: its own .local/ckan."""
    chosen = home(private_clone)
    expected = fallback(private_clone) if os.geteuid() == 0 else private_clone / ".local" / "ckan"
    assert chosen == expected
    assert home(private_clone) == chosen  # the same choice every time
    assert not chosen.exists() and not (private_clone / ".local").exists()


def test_local_ckan_home_wins(private_clone, tmp_path):
    assert home(private_clone, LOCAL_CKAN_HOME=str(tmp_path / "mine")) == tmp_path / "mine"


def test_reachable_clone_keeps_its_own_folder(open_clone):
    assert home(open_clone) == open_clone.resolve() / ".local" / "ckan"


def test_a_squatted_var_tmp_folder_is_refused(private_clone, tmp_path):
    """/var/tmp is writable by all: a name taken there by a symlink is refused, never followed."""
    if os.geteuid() != 0:
        assert home(private_clone) == private_clone / ".local" / "ckan"
        return
    target = tmp_path / "elsewhere"
    target.mkdir()
    squat = fallback(private_clone)
    squat.symlink_to(target)
    try:
        stop = subprocess.run([str(private_clone / "scripts" / "ckan" / "local-ckan.sh"), "stop"],
                              capture_output=True, text=True, timeout=60, check=False)
    finally:
        squat.unlink()
    assert stop.returncode == 1
    assert f"{squat} is not a folder of root" in stop.stderr
    assert list(target.iterdir()) == []


def test_remove_deletes_only_a_state_folder(tmp_path):
    """``remove`` (nothing running) deletes a folder holding only what the script writes, and refuses
    one holding anything else: LOCAL_CKAN_HOME may name any folder."""
    state, other = tmp_path / "state", tmp_path / "other"
    for folder in (state, other):
        (folder / "logs").mkdir(parents=True)
        (folder / "logs" / "ckan.log").write_text("log\n")
        (folder / "env").write_text("CKAN_URL=http://127.0.0.1:1\n")
    (other / "notes.txt").write_text("mine\n")
    env = {k: v for k, v in os.environ.items() if k != "LOCAL_CKAN_HOME"}
    removed = subprocess.run([str(SCRIPT), "remove"], env=env | {"LOCAL_CKAN_HOME": str(state)},
                             capture_output=True, text=True, timeout=120, check=False)
    refused = subprocess.run([str(SCRIPT), "remove"], env=env | {"LOCAL_CKAN_HOME": str(other)},
                             capture_output=True, text=True, timeout=120, check=False)
    assert removed.returncode == 0 and not state.exists(), removed.stderr
    assert refused.returncode == 1 and f"{other}/notes.txt, which local-ckan.sh does not write" in refused.stderr
    assert sorted(p.name for p in other.iterdir()) == ["env", "logs", "notes.txt"]  # untouched, no .lock
