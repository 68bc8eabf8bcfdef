"""The local CKAN (scripts/ckan/local-ckan.sh) for integration tests: its handle and checks.

``local_ckan`` starts it once per session (installing it on a fresh machine)
and fails, never skips, when it cannot. Each session works in its own
organisation; every dataset it creates is purged at the end, and CKAN is
stopped again if the session started it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from kehoach.core.paths import PROJECT_ROOT as REPO_ROOT
from kehoach.publish.ckan_fields import resource_name, resource_order
from kehoach.publish.snapshot import open_package


def key(resource: dict) -> str:
    """What a resource stands for: its package resource's name (``kehoach_key``), else its own name."""
    return resource.get("kehoach_key") or resource["name"]

SCRIPT = REPO_ROOT / "scripts" / "ckan" / "local-ckan.sh"


@dataclass
class LocalCkan:
    url: str
    token_file: Path
    max_upload_mb: int
    org: str
    run: str
    datasets: list[str] = field(default_factory=list)
    orgs: list[str] = field(default_factory=list)

    @property
    def token(self) -> str:
        return self.token_file.read_text(encoding="utf-8").strip()

    def api(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": token if token is not None else self.token}
        return httpx.Client(base_url=f"{self.url}/api/3/action/", headers=headers, trust_env=False, timeout=60)

    def action(self, action: str, /, **data) -> dict:
        with self.api() as client:
            response = client.post(action, json=data)
        body = response.json()
        assert body.get("success"), f"{action}: HTTP {response.status_code} {body.get('error')}"
        return body["result"]

    def dataset(self, suffix: str) -> str:
        """A dataset name of this session (purged at the end)."""
        name = f"kht-{self.run}-{suffix}"
        self.datasets.append(name)
        return name

    def organisation(self, suffix: str) -> str:
        """An extra organisation of this session (purged at the end)."""
        name = f"{self.org}-{suffix}"
        self.orgs.append(name)
        return name

    def show(self, name: str) -> dict:
        return self.action("package_show", id=name)

    def stop(self) -> None:
        run_script("stop")

    def start(self) -> None:
        run_script("start")


def ckan_runs() -> bool:
    return subprocess.run([str(SCRIPT), "status"], capture_output=True, check=False).returncode == 0


def _started_mark() -> Path:
    # One folder per test run, made by the run's controlling process (tests/conftest.py) and
    # inherited by pytest-xdist's workers: a worker that starts CKAN says so there.
    return Path(os.environ["KEHOACH_TEST_RUN_DIR"]) / "ckan-started"


def started_by_this_run() -> None:
    _started_mark().touch()


def stop_if_started_by_this_run() -> None:
    if _started_mark().exists():
        run_script("stop")


def run_script(command: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(SCRIPT), command], capture_output=True, text=True, timeout=900, check=False)
    if result.returncode != 0:
        pytest.fail(f"scripts/ckan/local-ckan.sh {command} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def state_folder(script: Path = SCRIPT, env: dict[str, str] | None = None) -> Path:
    """The local CKAN's state folder as ``script`` chooses it (``local-ckan.sh home``: the
    clone's .local/ckan, or a folder in /var/tmp when PostgreSQL's user cannot reach it)."""
    result = subprocess.run([str(script), "home"], capture_output=True, text=True, timeout=60, check=True, env=env)
    return Path(result.stdout.strip())


def read_env(path: Path) -> dict[str, str]:
    env = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            env[key.strip()] = value.strip().strip("'\"")
    return env


def assert_published(ckan: LocalCkan, dataset: str, package: Path, download: bool | Collection[str] = True) -> dict:
    """The dataset holds exactly the package: one resource per file, in order, with equal
    hashes and sizes, and (``download``: all, none, or the files of these keys) every download
    byte-identical to the file. Returns package_show."""
    shown = ckan.show(dataset)
    resources = [r for r in shown["resources"] if r.get("kehoach_managed") == "true"]
    with open_package(package, validate=False) as snap, httpx.Client(trust_env=False, timeout=60) as http:
        files = resource_order(snap.files)  # the ZIP, the workbook and the landing page first
        assert [r["kehoach_key"] for r in resources] == [f.key for f in files]
        assert [r["name"] for r in resources] == [resource_name(f) for f in files]
        for r, f in zip(resources, files, strict=True):
            assert r["url_type"] == "upload", r["name"]
            assert r["hash"] == f.sha256 and r["size"] == f.size, r["name"]
            if download is True or (download and f.key in download):
                response = http.get(r["url"])
                assert response.status_code == 200, f"{r['url']}: HTTP {response.status_code}"
                assert response.content == snap.local(f).read_bytes(), f"{r['name']}: download differs from {f.path}"
    return shown
