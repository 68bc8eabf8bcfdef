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
# A folder for the whole test run, made by the process that runs it and inherited by
# pytest-xdist's workers (they import this file after it is set).
os.environ.setdefault("KEHOACH_TEST_RUN_DIR", tempfile.mkdtemp(prefix="kehoach-test-run-"))
# A public portal address: the local default is refused for CKAN (kehoach.publish.targets);
# the tests of that default unset it.
os.environ["KEHOACH_PORTAL_URL"] = "https://data.example.org/kehoach/"

import pytest  # noqa: E402
from ckan_helpers import stop_if_started_by_this_run  # noqa: E402
from helpers import PLAN_FILE  # noqa: E402
from prefect_database import DATABASE, migrated_database, seed_home, sqlite_url  # noqa: E402

from kehoach import build  # noqa: E402
from kehoach.core.model import Tables  # noqa: E402
from kehoach.core.settings import server_start_seconds  # noqa: E402
from kehoach.read.sources import SourceText, read_source  # noqa: E402

# The heavy markers, the longest first: a group is as heavy as its heaviest test.
HEAVY = ("ckan", "load", "server", "ocr", "prefect")


def pytest_configure(config):
    # The groups are ordered here (pytest_collection_modifyitems), not by xdist's count of tests in each.
    if hasattr(config.option, "loadscopereorder"):
        config.option.loadscopereorder = False


def _weight(item) -> int:
    ckan = {"ckan"} if "local_ckan" in getattr(item, "fixturenames", ()) else set()
    marks = {mark.name for mark in item.iter_markers()} | ckan
    return next((i for i, name in enumerate(HEAVY) if name in marks), len(HEAVY))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook, which reads the groups into the tests' ids
def pytest_collection_modifyitems(config, items):
    """With pytest-xdist (``--dist loadgroup``), a file's tests run on one worker, so that its
    module fixtures (a package built, a scan read by OCR) are made once; and every test of the
    local CKAN runs on one worker: some stop and restart it, which another worker's publish
    would not survive.

    The groups are handed out in the order of the items, so the longest go first (a worker that
    takes a long group late finishes alone): the CKAN group, then the groups of the other heavy
    markers (``HEAVY``), those with more heavy tests first, then the rest, the larger first."""
    groups: dict[str, list] = {}
    group_of = {}
    for item in items:
        ckan = "local_ckan" in getattr(item, "fixturenames", ())
        group = group_of[item.nodeid] = "ckan" if ckan else item.nodeid.split("::", 1)[0]
        item.add_marker(pytest.mark.xdist_group(group))
        groups.setdefault(group, []).append(item)
    rank = {}
    for group, members in groups.items():
        weights = [_weight(item) for item in members]
        heaviest = min(weights)
        rank[group] = (heaviest, -weights.count(heaviest), -len(members))
    order = {group: i for i, group in enumerate(sorted(groups, key=rank.__getitem__))}  # sorted() is stable
    items.sort(key=lambda item: order[group_of[item.nodeid]])


def pytest_sessionfinish(session, exitstatus):
    if not hasattr(session.config, "workerinput"):  # the controlling process, not an xdist worker
        stop_if_started_by_this_run()


@pytest.fixture(scope="session")
def plan_path() -> Path:
    return PLAN_FILE


@pytest.fixture(scope="session")
def plan_source() -> SourceText:
    return read_source(PLAN_FILE)


@pytest.fixture(scope="session")
def plan_tables(plan_source) -> Tables:
    from kehoach.parse.plan import parse_source

    return parse_source(plan_source)


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory):
    """One temporary Prefect server for the whole session: the CLI's own (``flows.server``: Prefect's test
    harness imported the server's whole application into the worker), on a copy of the test run's migrated
    database; the session's Prefect home gets one too, for the CLIs the tests start (tests/prefect_database.py).
    Stopped at exit, after Prefect's log and event workers drained (as the CLI's)."""
    from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_DATABASE_CONNECTION_URL, temporary_settings

    from flows.server import TemporaryServer

    seed_home(Path(_PREFECT_HOME))
    database = migrated_database(tmp_path_factory.mktemp("prefect-harness") / DATABASE)
    with temporary_settings(updates={PREFECT_SERVER_DATABASE_CONNECTION_URL: sqlite_url(database)}):
        server = TemporaryServer()
        # as long as the CLI waits for its own (on a loaded machine, 120 s was not enough)
        server.start(server_start_seconds())
    with temporary_settings(updates={PREFECT_API_URL: server.api_url}):
        yield


@pytest.fixture(scope="session")
def built_package(tmp_path_factory, plan_source, plan_tables) -> Path:
    """A valid package built from the real plan (read-only: copy it before changing it)."""
    out = tmp_path_factory.mktemp("built") / "output"
    build.run_build([plan_source.path], out)
    return out
