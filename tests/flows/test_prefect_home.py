"""Prefect's home is one its user can write (issue 29): when PREFECT_HOME is not set and the default,
~/.prefect, cannot be made (a home that is missing, read-only or not a folder), the CLI gives Prefect
a folder of this user's in the temporary folder, said once; an explicit PREFECT_HOME is kept."""

from __future__ import annotations

import os
import tempfile

import pytest
from helpers import PLAN_FILE

from flows import cli, launch
from kehoach.core.errors import KehoachError


@pytest.fixture
def no_home(tmp_path, monkeypatch):
    """HOME is a file, not a folder (even root cannot make ~/.prefect there); a temporary folder of the test's."""
    home = tmp_path / "home-not-a-folder"
    home.touch()
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("PREFECT_HOME")
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    return temporary / f"kehoach-prefect-{os.getuid()}"


def test_an_unreachable_home_gives_prefect_a_folder_of_its_own(no_home, capsys, monkeypatch):
    assert launch.settle_home() == no_home
    assert os.environ["PREFECT_HOME"] == str(no_home)
    assert no_home.is_dir() and (no_home.stat().st_mode & 0o777) == 0o700
    assert capsys.readouterr().err.count(f"Prefect keeps its home in {no_home}") == 1
    monkeypatch.delenv("PREFECT_HOME")  # the next command: the same folder, not said again
    assert launch.settle_home() == no_home
    assert capsys.readouterr().err == ""


def test_a_writable_home_or_a_set_prefect_home_is_kept(no_home, tmp_path, monkeypatch):
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "home-not-a-folder" / "prefect"))
    assert launch.settle_home() is None  # the user's choice: flows.server says what is wrong with it
    monkeypatch.delenv("PREFECT_HOME")
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert launch.settle_home() is None
    assert "PREFECT_HOME" not in os.environ and not no_home.exists()


def test_a_squatted_folder_is_refused(no_home, tmp_path):
    """The temporary folder is shared: that name taken by a symlink is refused, never followed."""
    no_home.symlink_to(tmp_path)
    with pytest.raises(KehoachError, match="not a folder of this user's"):
        launch.settle_home()
    assert "PREFECT_HOME" not in os.environ


def test_the_cli_settles_the_home_before_prefect_is_imported(no_home):
    """Every command (here one that runs no flow) settles the home in ``prepare``, before it imports
    Prefect: Prefect reads PREFECT_HOME as it is imported (by hand: a build with HOME a file then runs)."""
    cli.prepare(cli.build_parser().parse_args(["inspect", str(PLAN_FILE)]))
    assert os.environ["PREFECT_HOME"] == str(no_home) and no_home.is_dir()
