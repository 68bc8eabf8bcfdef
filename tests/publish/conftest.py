"""The ``local_ckan`` fixture: the local CKAN, started once per session (installed on a fresh machine).

It fails, never skips, when CKAN cannot start. Each session works in its own
organisation; every dataset it creates is purged at the end, and CKAN is
stopped again if the test run started it (by the run's controlling process:
with pytest-xdist, the CKAN tests run on one worker, see ``tests/conftest.py``,
and no worker stops a CKAN that another process may still use).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ckan_helpers import LocalCkan, ckan_runs, read_env, run_script, started_by_this_run, state_folder


@pytest.fixture(scope="session")
def local_ckan() -> Iterator[LocalCkan]:
    if not ckan_runs():
        started_by_this_run()  # the controller stops it at the end of the run
        run_script("start")
    env = read_env(state_folder() / "env")
    run = uuid.uuid4().hex[:8]
    ckan = LocalCkan(env["CKAN_URL"], Path(env["CKAN_API_TOKEN_FILE"]),
                     int(env.get("CKAN_LOCAL_MAX_RESOURCE_SIZE_MB", "10")), f"kehoach-test-{run}", run)
    yield ckan
    with ckan.api() as client:
        for name in ckan.datasets:
            client.post("dataset_purge", json={"id": name})
        for org in [*ckan.orgs, ckan.org]:
            client.post("organization_purge", json={"id": org})
