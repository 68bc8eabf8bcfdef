"""The repository is self-contained: no test, script, Makefile line or CI step reads a file
outside it (a fresh clone with nothing beside it must pass ``make test``).

Paths are read as the code writes them: a string literal going up (``'..'``), a
``Path(__file__).parents[N]`` above the repository, an absolute path into a home or work
folder, a path into ``shared/``, and in shell a ``..`` that climbs above the repository from
the script's own folder. System tools and temporary folders (``/usr``, ``/tmp``, …) are fine.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# A line that holds such a path as data (an input a test feeds the product, never read) says so.
DATA_MARK = "# path as data, not read"

_PY_UP = re.compile(r"""["']\.\.(?:/|\\|["'])""")
_PY_PARENTS = re.compile(r"__file__\)\.resolve\(\)\.parents\[(\d+)\]")
_ABSOLUTE_PRIVATE = re.compile(r"""["'\s=:](/(?:work|home|root|mnt|srv|opt|media)/)""")
_SHARED = re.compile(r"""\bshared/(?:real|seeds|dcat-ap|reference-notes|hooks)\b""")
_SHELL_UP = re.compile(r"""(\$SCRIPT_DIR|\$\(dirname "\$0"\)|\$\(dirname -- "\$0"\))?((?:/\.\.)+|\.\./(?:\.\./)*)""")


def _tracked(*patterns: str) -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", *patterns],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    return [ROOT / name for name in listed if name and (ROOT / name).is_file()]


def _python_files() -> list[Path]:
    return [p for p in _tracked("tests", "scripts") if p.suffix == ".py"]


def _shell_files() -> list[Path]:
    return [p for p in _tracked("scripts", ".ci", "Makefile") if p.suffix in ("", ".sh") and p.name != "README"]


def _python_problems(name: Path, text: str) -> list[str]:
    """Problems of the Python file ``name`` (relative to the root) holding ``text``."""
    depth = len(name.parts) - 1  # folders between the file and the root
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        if DATA_MARK in line:
            continue
        where = f"{name}:{number}"
        if _PY_UP.search(line):
            problems.append(f"{where}: a path going up ('..')")
        for level in _PY_PARENTS.findall(line):
            if int(level) >= depth + 1:
                problems.append(f"{where}: parents[{level}] is above the repository")
        if _ABSOLUTE_PRIVATE.search(line) or _SHARED.search(line):
            problems.append(f"{where}: a path outside the repository")
    return problems


def _shell_problems(name: Path, text: str) -> list[str]:
    """Problems of the shell script or Makefile ``name`` (relative to the root) holding ``text``."""
    depth = len(name.parts) - 1
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        where = f"{name}:{number}"
        for anchor, ups in _SHELL_UP.findall(line):
            climbs = ups.count("..")
            if not anchor or climbs > depth:  # only from the script's own folder, and not above the root
                problems.append(f"{where}: a path going up ({anchor}{ups})")
        if _ABSOLUTE_PRIVATE.search(line) or _SHARED.search(line):
            problems.append(f"{where}: a path outside the repository")
    return problems


def _problems(files: list[Path], check) -> list[str]:
    me = Path(__file__).resolve()  # this file names such paths to test the check
    return [problem for path in files if path != me
            for problem in check(path.relative_to(ROOT), path.read_text(encoding="utf-8"))]


def test_no_test_script_or_makefile_reads_outside_the_repository():
    python, shell = _python_files(), _shell_files()
    assert any(p.name == "Makefile" for p in shell) and any(p.parent.name == ".ci" for p in shell)
    assert _problems(python, _python_problems) + _problems(shell, _shell_problems) == []


@pytest.mark.parametrize(("text", "found"), [
    ('REAL = Path(__file__).resolve().parents[2] / ".." / "shared" / "real"', True),
    ('SHAPES = Path(__file__).resolve().parents[3] / "x.ttl"', True),
    ('open("../shared/seeds/a.txt")', True),
    ('p = "/work/shared/real/a.txt"', True),
    ('REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"', False),
    ('tmp = Path("/tmp/x")', False),
])
def test_the_check_finds_a_python_path_outside(text, found):
    assert bool(_python_problems(Path("tests/parse/probe.py"), text)) is found


@pytest.mark.parametrize(("text", "found"), [
    ('REPO_ROOT=$(cd -- "$SCRIPT_DIR/../.." && pwd)', False),
    ('REPO_ROOT=$(cd -- "$SCRIPT_DIR/../../.." && pwd)', True),
    ('cp ../shared/real/a.txt tests/', True),
])
def test_the_check_finds_a_shell_path_outside(text, found):
    assert bool(_shell_problems(Path("scripts/ckan/probe.sh"), text)) is found
