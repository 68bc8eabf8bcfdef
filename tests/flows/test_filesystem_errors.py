"""A full disk and a refused write, end to end through the real CLI and Prefect flow (issue 11).

The package in place must come out byte for byte as it was, with no staging
directory beside it, and the CLI must say what is wrong in one line and exit 2.

- A full disk is a file-size limit (``RLIMIT_FSIZE``) on a CLI in a child
  process: its writes past the limit fail with EFBIG, as they fail with ENOSPC
  on a full disk (the same path through the code: an OSError from a write, or
  DuckDB's own error for its file). The child uses the session's Prefect server,
  so the limit does not reach a server database.
- A truly full disk is a small tmpfs, filled to its last byte (mounting needs root;
  elsewhere those tests are skipped, said so). It fills the disk of the temporary
  Prefect server's database too when PREFECT_HOME is on it: the CLI then starts its
  own server (no PREFECT_API_URL), which must end in the same one-line error,
  naming that folder, with no server process left running. Filled until a few
  hundred KiB remain, the disk takes the CLI's small write but not the server's
  database migrations: the same error, from what the server said.
- A refused write is a read-only folder. Root ignores file modes, so as root the
  folder is made immutable (``chattr +i``), which root's writes respect too; where
  the file system refuses that attribute, the test is skipped (said so, not faked).
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import copy_package, plan_text, write_plan
from prefect.client.orchestration import get_client

from flows import cli, commands  # noqa: F401  (imported before any test captures the streams)
from kehoach.core.files import exclusive_lock, sha256_file
from kehoach.package.layout import parse_cache_dir
from kehoach.parse.corpus_tables import folder_beside

pytestmark = pytest.mark.prefect

REPO_ROOT = Path(__file__).resolve().parents[2]
# One budget amount of the plan changed: the next build writes a new version (1.1.0).
ROW = "1.2 | Hội nghị, hội thảo, tập huấn về Chuyển đổi số; Ngày Chuyển đổi số | - | - | 360 | - |"


def _changed_plan(folder: Path) -> Path:
    text = plan_text()
    assert text.count(ROW) == 1
    return write_plan(folder, text.replace(ROW, ROW.replace("| 360 |", "| 365 |")), "changed.txt")


def _previous_package(built_package: Path, site: Path) -> Path:
    """A copy of a good build, with the lock file a build leaves beside it."""
    out = copy_package(built_package, site / "output")
    with exclusive_lock(out):
        pass
    return out


def _files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (hidden ones included) -> its sha256, but the parse cache's and the
    corpus table files kept beside it: the parse of a build that then fails may store its texts' entries
    and their tables there (caches keyed by the texts, not the package: the run that follows parses
    nothing again)."""
    caches = (parse_cache_dir(folder), folder_beside(parse_cache_dir(folder)))
    return {str(p.relative_to(folder)): sha256_file(p) for p in sorted(folder.rglob("*"))
            if p.is_file() and not any(cache in p.parents for cache in caches)}


def _leftovers(site: Path) -> list[str]:
    return sorted(p.name for p in site.iterdir() if ".staging-" in p.name or ".old-" in p.name)


def _api_url() -> str:
    with get_client(sync_client=True) as client:
        return str(client.api_url)


def _file_size_limit(limit: int):
    """A ``preexec_fn``: the child may write no file beyond ``limit`` bytes."""
    def arm() -> None:  # runs in the child, before exec (both settings survive exec)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the CLI
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return arm


@contextlib.contextmanager
def _read_only(folder: Path):
    """Nothing can be created, renamed or removed in ``folder`` by this process, root included."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)
        return
    chattr = shutil.which("chattr")
    made = chattr and subprocess.run([chattr, "+i", str(folder)], capture_output=True, check=False).returncode == 0
    if not made:
        pytest.skip("running as root (file modes ignored) and the immutable attribute (chattr +i) is not "
                    "available on this file system: no read-only folder can be made for root here")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", str(folder)], check=True)


@pytest.mark.parametrize("part", ["a file past the limit", "the DuckDB file"])
def test_a_full_disk_is_one_line_exit_2_and_the_package_stays(prefect_harness, built_package, tmp_path, part):
    site = tmp_path / "site"
    out = _previous_package(built_package, site)
    before = _files(out)
    sizes = sorted((p.stat().st_size, p.name) for p in out.rglob("*") if p.is_file())
    largest, name = sizes[-1]
    assert name.endswith(".duckdb")  # the largest file, written by DuckDB, not by Python
    # Below the plan's text (copied into the package) the first large file fails; below the
    # DuckDB file alone, DuckDB's own write fails (its error is not an OSError).
    limit = 64 * 1024 if part == "a file past the limit" else largest // 2
    plan = _changed_plan(tmp_path)

    done = subprocess.run(
        [sys.executable, "-m", "flows.cli", "build", str(plan), "--out", str(out)],
        env={**os.environ, "PREFECT_API_URL": _api_url()}, cwd=REPO_ROOT, capture_output=True, text=True,
        preexec_fn=_file_size_limit(limit), timeout=300, check=False,
    )

    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    error = done.stderr.splitlines()[-1]
    assert done.stderr.count("\n") == 1, done.stderr  # one line: nothing else on stderr
    assert error.endswith(": file too large: raise the file-size limit (ulimit -f) or free some space "
                          "and run again (the previous package is unchanged)")
    where = error.split(": file too large")[0]
    assert where.startswith(str(site)), error  # the file that could not be written, in the output's folder
    assert _files(out) == before
    assert _leftovers(site) == []


@pytest.mark.parametrize("folder", ["parent", "output"])
def test_a_read_only_folder_is_one_line_exit_2_and_the_package_stays(prefect_harness, built_package, tmp_path,
                                                                      folder, capsys):
    if folder == "output" and os.geteuid() != 0:
        pytest.skip("a folder's mode does not stop its owner renaming it: only the immutable attribute "
                    "(set by root) does")
    site = tmp_path / "site"
    out = _previous_package(built_package, site)
    before = _files(out)
    plan = _changed_plan(tmp_path)
    capsys.readouterr()
    # parent: no staging directory can be made beside the package; output: the package is staged
    # whole, then cannot be swapped in (an immutable directory cannot be renamed).
    with _read_only(site if folder == "parent" else out):
        code = cli.main(["build", str(plan), "--out", str(out)])
        leftovers = _leftovers(site)
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    reason = "permission denied" if os.geteuid() != 0 else "operation not permitted"
    assert err.startswith(f"{site}/"), err
    assert err.endswith(f": {reason}: check permissions and run again (the previous package is unchanged)\n")
    assert _files(out) == before
    assert leftovers == []


def test_duckdb_out_of_its_memory_limit_is_one_line_exit_2_and_the_package_stays(prefect_harness, built_package,
                                                                               tmp_path, monkeypatch, capsys):
    # a national corpus on a small machine: DuckDB's connections are bounded (KEHOACH_DUCKDB_MEMORY);
    # one that runs out says what to set, not "internal error"
    site = tmp_path / "site"
    out = _previous_package(built_package, site)
    before = _files(out)
    plan = _changed_plan(tmp_path)
    monkeypatch.setenv("KEHOACH_DUCKDB_MEMORY", "1MB")
    capsys.readouterr()
    code = cli.main(["build", str(plan), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err == (f"{out}: DuckDB reached its memory limit: raise KEHOACH_DUCKDB_MEMORY (e.g. 4GB) or free memory, "
                   "and run again (the previous package is unchanged)\n")
    assert _files(out) == before
    assert _leftovers(site) == []


@contextlib.contextmanager
def _small_disk(folder: Path, size: str):
    """A tmpfs of ``size`` mounted at ``folder``, unmounted however the test ends (root only: a
    mount refused to root fails the test)."""
    if os.geteuid() != 0:
        pytest.skip("a full disk is a small tmpfs filled up, and mounting one needs root")
    folder.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)], check=True)
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)  # fails while a process still holds a file there


def _fill(disk: Path, leave: int = 0) -> None:
    """Write zeros until the file system refuses with ENOSPC, then free ``leave`` bytes again."""
    fd = os.open(disk / "filler", os.O_WRONLY | os.O_CREAT)
    try:
        with pytest.raises(OSError) as refused:
            while True:
                os.write(fd, bytes(64 * 1024))
    finally:
        os.close(fd)
    assert refused.value.errno == errno.ENOSPC
    assert shutil.disk_usage(disk).free == 0
    if leave:
        os.truncate(disk / "filler", (disk / "filler").stat().st_size - leave)
        assert shutil.disk_usage(disk).free == leave


def _processes_with(variable: str) -> list[int]:
    """Processes (other than this one) whose environment holds ``variable`` exactly (e.g. a PREFECT_HOME)."""
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        with contextlib.suppress(OSError):
            if variable.encode() in environ.read_bytes().split(b"\0") and int(environ.parent.name) != os.getpid():
                found.append(int(environ.parent.name))
    return found


def _cli_build(plan: Path, out: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "flows.cli", "build", str(plan), "--out", str(out)],
                          env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False)


def _one_line_error(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stderr.count("\n") == 1, done.stderr  # one line: nothing else on stderr
    return done.stderr.rstrip("\n")


@pytest.mark.parametrize("left", [0, 300 * 1024], ids=["full", "nearly-full"])
def test_a_full_disk_under_prefect_home_is_one_line_exit_2_and_no_server_is_left(built_package, tmp_path, left):
    """PREFECT_HOME and the output on one full disk, the CLI starting its own temporary server. With
    300 KiB left, the CLI's write into PREFECT_HOME passes and the server's migrations do not (SQLite's
    "database or disk is full"; the server exits as for a port in use and Prefect would restart it
    until its time-out)."""
    with _small_disk(tmp_path / "disk", "16m") as disk:
        site, home = disk / "site", disk / "prefect"
        out = _previous_package(built_package, site)
        before = _files(out)
        home.mkdir()
        plan = _changed_plan(tmp_path)
        _fill(disk, leave=left)
        env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}  # the CLI starts its own server

        done = _cli_build(plan, out, {**env, "PREFECT_HOME": str(home)})

        error = _one_line_error(done)
        assert error == (f"{home}: no space left on device: Prefect's temporary server cannot write its database "
                         "in this folder (PREFECT_HOME): free some space there (or set PREFECT_HOME elsewhere) "
                         "and run again (the previous package is unchanged)")
        assert "database or disk is full" not in done.stdout  # the server's traceback stays in the CLI
        assert _files(out) == before
        assert _leftovers(site) == []
        assert sorted(p.name for p in home.iterdir()) == []  # no probe, no database the server began
        assert _processes_with(f"PREFECT_HOME={home}") == []  # no temporary server left running
        assert shutil.disk_usage(disk).free == left  # the disk as it was


def test_a_full_disk_under_the_output_is_one_line_exit_2_and_the_package_stays(prefect_harness, built_package,
                                                                               tmp_path):
    """The output on a full disk (the package in place fills most of it); the session's server."""
    with _small_disk(tmp_path / "disk", "16m") as disk:
        site = disk / "site"
        out = _previous_package(built_package, site)
        before = _files(out)
        plan = _changed_plan(tmp_path)
        _fill(disk)

        done = _cli_build(plan, out, {**os.environ, "PREFECT_API_URL": _api_url()})

        error = _one_line_error(done)
        assert error.startswith(f"{site}/"), error  # the output, or the file in it that could not be written
        assert error.endswith(": no space left on device: free some space and run again "
                              "(the previous package is unchanged)")
        assert _files(out) == before
        assert _leftovers(site) == []
        (disk / "filler").unlink()  # the package in place still reads as a package
        assert json.loads((out / "datapackage.json").read_text(encoding="utf-8"))["resources"]
