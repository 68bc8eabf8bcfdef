"""No file of the repository keeps a merge's conflict markers: a README once shipped with
'<<<<<<< HEAD' in its limits' paragraph, and nothing else would have noticed (a marker in
Markdown, CSV or JSON is no syntax error)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_MARKER = re.compile(rb"^(?:<{7} |>{7} |={7}\r?$)", re.MULTILINE)


def _tracked() -> list[Path]:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    return [ROOT / name for name in listed if name and (ROOT / name).is_file()]


def conflicted(paths: list[Path]) -> list[str]:
    """``FILE:LINE`` of every conflict marker in ``paths``."""
    found = []
    for path in paths:
        data = path.read_bytes()
        for m in _MARKER.finditer(data):
            line = data.count(b"\n", 0, m.start()) + 1
            found.append(f"{path.relative_to(ROOT)}:{line}")
    return found


def test_no_file_keeps_conflict_markers() -> None:
    assert conflicted(_tracked()) == []


def test_the_check_finds_each_marker(tmp_path: Path) -> None:
    sample = ROOT / "tests" / f".conflict-sample-{tmp_path.name}.md"
    try:
        sample.write_bytes(b"a\n<<<<<<< HEAD\nours\n=======\ntheirs\n>>>>>>> branch\nb\n")
        assert conflicted([sample]) == [f"tests/{sample.name}:{n}" for n in (2, 4, 6)]
    finally:
        sample.unlink()
