"""The ``local_ckan`` fixture: the local CKAN, started once per session (installed on a fresh machine).

It fails, never skips, when CKAN cannot start. Each session works in its own
organisation; every dataset it creates is purged at the end, and CKAN is
stopped again if the session started it.
"""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from ckan_helpers import SCRIPT, LocalCkan, read_env, run_script, state_folder


@pytest.fixture(scope="session")
def local_ckan() -> Iterator[LocalCkan]:
    was_running = subprocess.run([str(SCRIPT), "status"], capture_output=True, check=False).returncode == 0
    run_script("start")
    env = read_env(state_folder() / "env")
    run = uuid.uuid4().hex[:8]
    ckan = LocalCkan(env["CKAN_URL"], Path(env["CKAN_API_TOKEN_FILE"]),
                     int(env.get("CKAN_LOCAL_MAX_RESOURCE_SIZE_MB", "10")), f"kehoach-test-{run}", run)
    yield ckan
    try:
        with ckan.api() as client:
            for name in ckan.datasets:
                client.post("dataset_purge", json={"id": name})
            for org in [*ckan.orgs, ckan.org]:
                client.post("organization_purge", json={"id": org})
    finally:
        if not was_running:
            ckan.stop()
