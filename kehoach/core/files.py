"""Writing files safely: atomic directory swaps, locks and hashes.

Nothing is written through a symbolic link: the lock file is opened with
``O_NOFOLLOW``, and an output or portal directory that is, or holds, a link is
refused before anything is written (a link there would let a build truncate,
overwrite or hard-link files outside it).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import shutil
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

from kehoach.core.errors import KehoachError


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def digest_files(digest: Any, paths: Iterable[Path], name: Callable[[Path], str]) -> None:
    """Feed ``digest`` (a ``hashlib`` object) each file's ``name`` and the sha256 of its bytes, in the order
    given: what a fingerprint of code and data files (the parser's, the audit's, the DuckDB file's) is made of."""
    for path in paths:
        digest.update(f"{name(path)}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())


def atomic_write(path: Path, data: bytes) -> None:
    """Replace ``path`` by ``data`` in one rename: a reader sees the old file or the new one, never half."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:  # a full disk: no half-written temporary file is left beside ``path``
        tmp.unlink(missing_ok=True)
        raise


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


# In a staging folder: which folders of the target a swap moved into it (``move_into``), and what it made in them.
MOVED_FILE = ".moved.json"


def move_into(staging: Path, target: Path, names: Iterable[str]) -> None:
    """Move the folders ``names`` of ``target`` into ``staging``, one rename each, having recorded them there
    first: ``move_back`` puts them back after a failed swap, ``clean_leftovers`` after a killed one."""
    (target / MOVED_FILE).unlink(missing_ok=True)  # a killed swap's, come in with its package
    moved = [n for n in names if (target / n).is_dir() and not (target / n).is_symlink()]
    _record_moved(staging, {"moved": moved, "made": []})
    for name in moved:
        os.rename(target / name, staging / name)


def made_in_moved(staging: Path, relpath: str) -> Path:
    """``staging / relpath``, a folder the swap is about to make in a moved one: removed if they are put back."""
    record = _moved(staging)
    _record_moved(staging, {**record, "made": [*record["made"], relpath]})
    return staging / relpath


def move_back(staging: Path, target: Path) -> None:
    """Put back into ``target`` the folders ``move_into`` moved into ``staging`` (those ``target`` lacks),
    without what was made in them since."""
    record = _moved(staging)
    for relpath in record["made"]:
        shutil.rmtree(staging / relpath, ignore_errors=True)
    for name in record["moved"]:
        if (staging / name).is_dir() and not (target / name).exists():
            os.rename(staging / name, target / name)


def _moved(staging: Path) -> dict:
    try:
        return json.loads((staging / MOVED_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"moved": [], "made": []}


def _record_moved(staging: Path, record: dict) -> None:
    (staging / MOVED_FILE).write_text(json.dumps(record), encoding="utf-8")


def swap_in(new: Path, target: Path) -> None:
    """Replace directory ``target`` by ``new``: two renames, then clean up.

    A crash between the renames leaves ``.<name>.old-<pid>``, which
    ``recover`` puts back on the next run, so readers never see a half
    written package; a second rename that fails (a permission error) puts
    it back at once.
    """
    recover(target)
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.exists():
        os.rename(target, old)
    try:
        os.rename(new, target)
    except BaseException:
        with contextlib.suppress(OSError):  # else recover() does it on the next run
            if old.exists() and not target.exists():
                os.rename(old, target)
        raise
    (target / MOVED_FILE).unlink(missing_ok=True)
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
    top-level entries named in ``exclude`` are left out. A symbolic link in
    the tree is refused: it would bring a file from outside into the package."""
    refuse_links(src)
    dst.mkdir(parents=True, exist_ok=True)
    for path in src.rglob("*"):
        relative = path.relative_to(src)
        if relative.parts[0] in exclude:
            continue
        if path.is_dir():
            (dst / relative).mkdir(parents=True, exist_ok=True)
        else:
            link_or_copy(path, dst / relative)


def refuse_links(directory: Path) -> None:
    """Refuse ``directory`` if it, or anything under it, is a symbolic link."""
    if directory.is_symlink():
        raise KehoachError("is a symbolic link; kehoach writes only into a real directory (give its target)",
                           directory)
    if not directory.is_dir():
        return
    for root, dirs, files in os.walk(directory):  # os.walk does not follow links
        for name in dirs + files:
            path = Path(root) / name
            if path.is_symlink():
                raise KehoachError("is a symbolic link inside the output; kehoach writes no file through a "
                                   "link: remove it", path)


def _open_lock(lock_path: Path) -> int:
    """The lock file's descriptor: never through a link, never truncated."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(lock_path, flags, 0o644)
    except OSError:
        if lock_path.is_symlink():  # ELOOP: the lock is a link (its target must not be touched)
            raise KehoachError("lock file is a symbolic link; remove it", lock_path) from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise KehoachError("lock file is not a regular file; remove it", lock_path)
    return fd


_LEFTOVER = re.compile(r"^\.(?P<name>.+)\.(?:staging|old)-(?P<pid>\d+)$")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # someone else's process: leave its files alone
    return True


def clean_leftovers(target: Path) -> list[Path]:
    """Remove staging and old directories that killed processes left next to
    ``target`` (``.<name>.staging-PID``, ``.<name>.old-PID``) and inside it
    (the portal's datasets). Call under the lock, after ``recover``."""
    removed = []
    places = [(target.parent, target.name)] + ([(target, None)] if target.is_dir() else [])
    for folder, name in places:
        for path in folder.glob(".*-*"):
            m = _LEFTOVER.match(path.name)
            if not m or (name is not None and m["name"] != name) or int(m["pid"]) == os.getpid():
                continue
            if ".old-" in path.name and not (folder / m["name"]).exists():
                continue  # the only copy of a package whose swap was interrupted: recover() restores it
            if not _alive(int(m["pid"])) and path.is_dir() and not path.is_symlink():
                if (folder / m["name"]).is_dir():  # what a killed swap had moved into its staging folder
                    move_back(path, folder / m["name"])
                shutil.rmtree(path, ignore_errors=True)
                removed.append(path)
    return removed


@contextlib.contextmanager
def exclusive_lock(target: Path, wait: bool = True) -> Iterator[None]:
    """Serialise builds/refreshes writing the same output directory.

    Under the lock, a ``target`` that is or holds a symbolic link is refused,
    an interrupted swap is finished and what dead processes left is removed.
    """
    if target.is_symlink():
        refuse_links(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    lock_path = target.with_name(f".{target.name}.lock")
    with os.fdopen(_open_lock(lock_path), "r+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise KehoachError("another build is writing this output; try again later", target) from None
        try:
            refuse_links(target)
            recover(target)
            clean_leftovers(target)
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
