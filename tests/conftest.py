"""Shared fixtures.

Prefect settings are fixed here, before anything imports Prefect: an
isolated PREFECT_HOME, no analytics (also avoids a 'database is locked'
race at start), quiet logging, no log shipping to the API.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

_PREFECT_HOME = tempfile.mkdtemp(prefix="kehoach-prefect-home-")
os.environ["PREFECT_HOME"] = _PREFECT_HOME
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ["PREFECT_LOGGING_LEVEL"] = "WARNING"
os.environ["PREFECT_LOGGING_TO_API_ENABLED"] = "false"
# The CLI's own logging configuration (expected failures are reported by the
# CLI in one line, not by Prefect with a traceback).
os.environ["PREFECT_LOGGING_SETTINGS_PATH"] = str(Path(__file__).resolve().parent.parent / "flows" / "logging.yml")
os.environ.pop("PREFECT_API_URL", None)

import pytest  # noqa: E402

from flows.model import Tables  # noqa: E402
from flows.paths import RAW_DIR  # noqa: E402
from flows.sources import SourceText, read_source  # noqa: E402

PLAN_FILE = RAW_DIR / "qni-219-KH-UBND-2023.txt"


@pytest.fixture(scope="session")
def plan_path() -> Path:
    return PLAN_FILE


@pytest.fixture(scope="session")
def plan_source() -> SourceText:
    return read_source(PLAN_FILE)


@pytest.fixture(scope="session")
def plan_tables(plan_source) -> Tables:
    from flows.parse import parse_source

    return parse_source(plan_source)


@pytest.fixture(scope="session")
def prefect_harness():
    """One temporary Prefect server for the whole session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


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
