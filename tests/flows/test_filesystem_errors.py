"""A full disk and a refused write, end to end through the real CLI and Prefect flow (issue 11).

The package in place must come out byte for byte as it was, with no staging
directory beside it, and the CLI must say what is wrong in one line and exit 2.

- A full disk is a file-size limit (``RLIMIT_FSIZE``) on a CLI in a child
  process: its writes past the limit fail with EFBIG, as they fail with ENOSPC
  on a full disk (the same path through the code: an OSError from a write, or
  DuckDB's own error for its file). The child uses the session's Prefect server,
  so the limit does not reach a server database.
- A refused write is a read-only folder. Root ignores file modes, so as root the
  folder is made immutable (``chattr +i``), which root's writes respect too; where
  the file system refuses that attribute, the test is skipped (said so, not faked).
"""

from __future__ import annotations

import contextlib
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

from flows import cli
from kehoach.core.files import exclusive_lock, sha256_file

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
    """Every file under ``folder`` (hidden ones included) -> its sha256."""
    return {str(p.relative_to(folder)): sha256_file(p) for p in sorted(folder.rglob("*")) if p.is_file()}


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
