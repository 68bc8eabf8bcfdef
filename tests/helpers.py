"""Helpers shared by the tests: reading rows, writing small plans, changing a built package."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pyarrow as pa

from kehoach import build
from kehoach.core.files import sha256_file
from kehoach.core.model import Tables
from kehoach.core.paths import RAW_DIR
from kehoach.package.csv_file import write_csv
from kehoach.package.writer import write_descriptor, write_parquet

PLAN_FILE = RAW_DIR / "qni-219-KH-UBND-2023.txt"
# Builds that leave validation out (the slow step of a build), for tests of what follows a build (the
# per-plan datasets, their publishing): the flow tests and built_package validate a build.
UNVALIDATED = build.Steps(validate=lambda *args: None)


def rows(tables: Tables, name: str, **where) -> list[dict]:
    """Rows of a resource matching all ``field=value`` pairs."""
    out = tables[name].to_pylist()
    return [r for r in out if all(r[k] == v for k, v in where.items())]


def one(tables: Tables, name: str, **where) -> dict:
    found = rows(tables, name, **where)
    assert len(found) == 1, f"{name} {where}: {len(found)} rows"
    return found[0]


def plan_text() -> str:
    return PLAN_FILE.read_text(encoding="utf-8")


def write_plan(tmp_path: Path, text: str, name: str = "plan.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def copy_package(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def descriptor(package: Path) -> dict:
    return json.loads((package / "datapackage.json").read_text(encoding="utf-8"))


def rehash(package: Path, desc: dict, names: list[str]) -> None:
    """Record the new hash (and size) of the named resources and rewrite datapackage.json."""
    for r in desc["resources"]:
        if r["name"] in names:
            path = package / r["path"]
            r["hash"] = f"sha256:{sha256_file(path)}"
            if "bytes" in r:
                r["bytes"] = path.stat().st_size
    write_descriptor(package, desc)


def change_table(package: Path, tables: Tables, name: str = "tasks", column: str = "name",
                 suffix: str = " (đã sửa)") -> None:
    """Change one cell of a table, rewrite its CSV and Parquet, and update datapackage.json."""
    table = tables[name]
    i = table.column_names.index(column)
    values = table.column(i).to_pylist()
    values[0] = f"{values[0]}{suffix}"
    table = table.set_column(i, table.schema.field(i), pa.array(values, type=table.schema.field(i).type))
    write_csv(table.to_reader, package / "data" / f"{name}.csv")
    write_parquet(table.to_reader(), package / "data" / f"{name}.parquet")
    rehash(package, descriptor(package), [name, f"{name}-parquet"])


def add_file(package: Path, name: str, relpath: str, data: bytes) -> None:
    """List a new non-table file in the package (as the DuckDB database or README will be)."""
    path = package / relpath
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    desc = descriptor(package)
    desc["resources"].append({"name": name, "path": relpath, "type": "file", "format": Path(relpath).suffix[1:],
                              "title": f"{name} file", "hash": "", "bytes": 0})
    rehash(package, desc, [name])


def remove_resource(package: Path, name: str) -> None:
    desc = descriptor(package)
    gone = next(r for r in desc["resources"] if r["name"] == name)
    desc["resources"].remove(gone)
    (package / gone["path"]).unlink()
    write_descriptor(package, desc)


# Closed under foreign keys: the trimmed package is still valid.
SMALL_TABLES = ("plans", "pillars", "tasks", "budget_items", "budget_lines")


def trimmed_package(src: Path, dst: Path, tables: tuple[str, ...] = SMALL_TABLES) -> Path:
    """A copy keeping only a few tables (CSV and Parquet), for tests that publish many times."""
    copy_package(src, dst)
    desc = descriptor(dst)
    keep = [r for r in desc["resources"] if r["name"].removesuffix("-parquet") in tables]
    for r in desc["resources"]:
        if r not in keep:
            (dst / r["path"]).unlink()
    desc["resources"] = keep
    write_descriptor(dst, desc)
    return dst


def stop_process_group(process: subprocess.Popen) -> None:
    """Stop a process started in a session of its own, and everything it started: TERM, then KILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
