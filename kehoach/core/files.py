"""Writing files safely: atomic directory swaps, locks and hashes."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from kehoach.core.errors import KehoachError


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def staging_dir(target: Path, purpose: str = "staging") -> Path:
    """A fresh sibling of ``target`` (same filesystem, so renames are atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target.with_name(f".{target.name}.{purpose}-{os.getpid()}")
    if path.exists():
        shutil.rmtree(path)
    path.mkdir()
    return path


def recover(target: Path) -> None:
    """Finish a swap interrupted between its two renames."""
    if target.exists():
        return
    olds = sorted(target.parent.glob(f".{target.name}.old-*"))
    if olds:
        os.rename(olds[-1], target)


def swap_in(new: Path, target: Path) -> None:
    """Replace directory ``target`` by ``new``: two renames, then clean up.

    A crash between the renames leaves ``.<name>.old-<pid>``, which
    ``recover`` puts back on the next run, so readers never see a half
    written package.
    """
    recover(target)
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.rename(target, old)
    os.rename(new, target)
    if old.exists():
        shutil.rmtree(old)


def link_or_copy(src: Path, dst: Path) -> None:
    """Hard-link ``src`` at ``dst`` (files here are never edited in place), or
    copy it where links are impossible (another filesystem). A missing
    ``src`` raises FileNotFoundError: the caller decides what that means."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except FileNotFoundError:
        raise
    except OSError:
        shutil.copy2(src, dst)


def link_or_copy_tree(src: Path, dst: Path, exclude: tuple[str, ...] = ()) -> None:
    """``link_or_copy`` every file of a tree (previous versions are immutable);
    top-level entries named in ``exclude`` are left out."""
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.rglob("*"):
        relative = path.relative_to(src)
        if relative.parts[0] in exclude:
            continue
        if path.is_dir():
            (dst / relative).mkdir(parents=True, exist_ok=True)
        else:
            link_or_copy(path, dst / relative)


@contextlib.contextmanager
def exclusive_lock(target: Path, wait: bool = True) -> Iterator[None]:
    """Serialise builds/refreshes writing the same output directory."""
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(f".{target.name}.lock")
    with lock_path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise KehoachError("another build is writing this output; try again later", target) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
