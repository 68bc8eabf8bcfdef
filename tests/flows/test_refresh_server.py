"""The scheduled refresh end to end, against a real ``prefect server``.

A Prefect server is started on loopback (its own PREFECT_HOME), ``kehoach
serve`` serves the deployment in a subprocess, and the test then:
1. runs the deployment once: version 1.0.0 is built and published;
2. amends the raw text (a budget cell changed, a task added, a budget cell
   blanked) and announces it with ``kehoach announce``: the event trigger
   starts a run that makes version 1.1.0 whose changelog holds exactly those
   changes, and keeps 1.0.0 under versions/;
3. runs the deployment again with nothing changed: no file is written.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from helpers import PLAN_FILE, stop_process_group
from prefect_database import DATABASE, migrated_database

from flows import cli

pytestmark = pytest.mark.server

BIN = Path(sys.executable).parent
PLAN = "11.2 | Khai thác Cơ sở dữ liệu về công nghiệp ICT Việt Nam (makeinvietnam.mic.gov.vn) | Sở TT&TT, các cơ quan thuộc tỉnh, UBND cấp huyện | Thường xuyên |\n"  # noqa: E501
NEW_TASK = "11.3 | Hỗ trợ doanh nghiệp số tham gia sàn thương mại điện tử | Sở Công Thương; UBND cấp huyện | 30/12/2024 |\n"  # noqa: E501
CELL_BEFORE = "1.1 | Truyền thông về chuyển đổi số | 800 |\n"
CELL_AFTER = "1.1 | Truyền thông về chuyển đổi số | 900 |\n"
BLANKED_BEFORE = "2.1 | Tập huấn triển khai Chuyển đổi IPv6 cho các cơ quan, đơn vị, địa phương thuộc tỉnh | 20 |\n|\n"
BLANKED_AFTER = "2.1 | Tập huấn triển khai Chuyển đổi IPv6 cho các cơ quan, đơn vị, địa phương thuộc tỉnh |\n|\n|\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until(check, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


@pytest.fixture(scope="module")
def prefect_server(tmp_path_factory):
    """A real, long-lived Prefect server on loopback (scheduler, triggers and all), on a copy of the test
    run's migrated database (tests/prefect_database.py)."""
    home = tmp_path_factory.mktemp("prefect-server-home")
    migrated_database(home / DATABASE)
    port = _free_port()
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
           "PREFECT_SERVER_UI_ENABLED": "false", "PREFECT_LOGGING_LEVEL": "WARNING",
           "PREFECT_LOGGING_TO_API_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    log = (home / "server.log").open("w")
    process = subprocess.Popen(
        [str(BIN / "prefect"), "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api"

    def healthy() -> bool:
        assert process.poll() is None, (home / "server.log").read_text()
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        _wait_until(healthy, 120, "the Prefect server")
        yield {"url": url, "env": {**env, "PREFECT_API_URL": url}}
    finally:
        stop_process_group(process)
        log.close()


def _api(url: str, call):
    """Run ``call(client)`` (a coroutine function) against the server at ``url``."""
    import asyncio

    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    async def main():
        async with get_client() as client:
            return await call(client)

    with temporary_settings(updates={PREFECT_API_URL: url}):
        return asyncio.run(main())


def _in_process(url: str, function, *args):
    """``function(*args)`` in this process, against the server at ``url``."""
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}):
        return function(*args)


def _run_deployment(url: str, **options):
    """Start a run of the refresh deployment on the server at ``url``
    (``timeout=0`` returns at once; otherwise waits for the run to end)."""
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: url}):
        return run_deployment("refresh_package/kehoach-refresh", poll_interval=1, **options)


def _flow_runs(url: str, deployment_id, scheduled: bool = False) -> list:
    """The deployment's runs that started (or, with ``scheduled``, the ones the schedule queued)."""
    from prefect.client.schemas.filters import DeploymentFilter, DeploymentFilterId

    runs = _api(url, lambda c: c.read_flow_runs(
        deployment_filter=DeploymentFilter(id=DeploymentFilterId(any_=[deployment_id]))))
    return [r for r in runs if (r.state_type.value == "SCHEDULED") == scheduled]


def _files(directory: Path) -> dict[str, int]:
    return {str(p.relative_to(directory)): p.stat().st_mtime_ns for p in directory.rglob("*")}


def test_served_refresh_by_run_by_event_and_unchanged(prefect_server, tmp_path, capsys):
    url, env = prefect_server["url"], prefect_server["env"]
    raw, out, portal = tmp_path / "raw", tmp_path / "output", tmp_path / "portal"
    raw.mkdir()
    plan = raw / PLAN_FILE.name
    shutil.copyfile(PLAN_FILE, plan)
    env = {**env, "PREFECT_RUNNER_POLL_FREQUENCY": "1"}
    serve_log = (tmp_path / "serve.log").open("w")
    served = subprocess.Popen(
        [str(BIN / "kehoach"), "serve", str(raw), "--out", str(out), "--target", str(portal),
         "--cron", "30 5 * * *"],
        env=env, stdout=serve_log, stderr=subprocess.STDOUT, start_new_session=True, cwd=tmp_path,
    )
    try:
        def deployment():
            assert served.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                return _api(url, lambda c: c.read_deployment_by_name("refresh_package/kehoach-refresh"))
            except Exception:  # not registered yet
                return None

        found = _wait_until(deployment, 120, "the served deployment")
        # The schedule is registered as asked, in Vietnam's time zone.
        [schedule] = found.schedules
        assert (schedule.schedule.cron, schedule.schedule.timezone) == ("30 5 * * *", "Asia/Ho_Chi_Minh")
        assert found.parameters["out"] == str(out)
        # The scheduler queues the next runs at 05:30 in Vietnam, 22:30 UTC.
        queued = _wait_until(lambda: _flow_runs(url, found.id, scheduled=True), 60, "scheduled runs")
        assert {(r.expected_start_time.hour, r.expected_start_time.minute) for r in queued} == {(22, 30)}

        # 1. A run started by hand builds and publishes version 1.0.0.
        first = _run_deployment(url, timeout=300)
        assert first.state.is_completed(), first.state
        assert json.loads((out / "datapackage.json").read_text(encoding="utf-8"))["version"] == "1.0.0"
        dataset = next(p for p in portal.iterdir() if p.is_dir())
        assert (dataset / f"{dataset.name}-1.0.0.zip").exists()

        # 2. Amend the text and announce it: the event trigger runs the refresh at once.
        text = plan.read_text(encoding="utf-8")
        for before, after in ((CELL_BEFORE, CELL_AFTER), (PLAN, PLAN + NEW_TASK), (BLANKED_BEFORE, BLANKED_AFTER)):
            assert text.count(before) == 1
            text = text.replace(before, after)
        plan.write_text(text, encoding="utf-8")
        # by the CLI in this process, which has Prefect imported already (a process of its own imported it again)
        code = _in_process(url, cli.main, ["announce", str(plan)])
        announced = capsys.readouterr()
        assert code == 0, announced.err
        assert announced.out.startswith(f"{plan}: announced as amended (event ")

        def second_run_done():
            runs = [r for r in _flow_runs(url, found.id) if r.id != first.id]
            return runs if runs and all(r.state and r.state.is_final() for r in runs) else None

        [second] = _wait_until(second_run_done, 300, "the run started by the event", interval=1)
        assert second.state.is_completed(), second.state
        desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
        assert (desc["version"], desc["previous_version"]) == ("1.1.0", "1.0.0")
        document_changes = _document_changes(out)
        assert document_changes == [
            ("budget_lines", "changed", '{"item_code": "1.1", "budget_level": "province", '
             '"expenditure_type": "recurrent"}', "amount_million_vnd", "800", "900"),
            ("budget_lines", "changed", '{"item_code": "1.1", "budget_level": "province", '
             '"expenditure_type": "recurrent"}', "amount_text", "800", "900"),
            ("budget_lines", "removed", '{"item_code": "2.1", "budget_level": "province", '
             '"expenditure_type": "recurrent"}', "", "", ""),
            ("task_agencies", "added", '{"task_code": "11.3", "mention_no": "1"}', "", "", ""),
            ("task_agencies", "added", '{"task_code": "11.3", "mention_no": "2"}', "", "", ""),
            ("tasks", "added", '{"task_code": "11.3"}', "", "", ""),
        ]
        assert "budget_lines: 1 changed, 1 removed; task_agencies: 2 added; tasks: 1 added" in desc["change_summary"]
        assert desc["change_summary"] in desc["description_en"]
        # The previous version stays whole and downloadable, in the output and the portal.
        kept = json.loads((out / "versions" / "1.0.0" / "datapackage.json").read_text(encoding="utf-8"))
        assert kept["version"] == "1.0.0" and (out / "versions" / "1.0.0" / "data" / "tasks.csv").exists()
        assert (dataset / "versions" / f"{dataset.name}-1.0.0.zip").exists()
        assert (dataset / f"{dataset.name}-1.1.0.zip").exists()

        # 3. Nothing changed: the run completes and writes nothing, anywhere.
        before = _files(out), _files(portal)
        third = _run_deployment(url, timeout=300)
        assert third.state.is_completed(), third.state
        assert (_files(out), _files(portal)) == before
        assert sorted(p.name for p in (out / "versions").iterdir()) == ["1.0.0"]
        assert len(_flow_runs(url, found.id)) == 3
    finally:
        stop_process_group(served)
        serve_log.close()


def _document_changes(out: Path) -> list[tuple]:
    """Changes to tables read from the document, keys without the plan id."""
    import csv

    with (out / "data" / "changes.csv").open(encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if r["derived"] == "false"]
    result = []
    for r in rows:
        key = {k: v for k, v in json.loads(r["row_key"]).items() if k != "plan_id"}
        result.append((r["resource"], r["change"], json.dumps(key, ensure_ascii=False), r["field"],
                       r["old_value"], r["new_value"]))
    return sorted(result)


def test_prefect_yaml_deploys_to_a_work_pool_and_a_worker_runs_it(prefect_server, tmp_path):
    """The README's work-pool recipe: `prefect deploy` from prefect.yaml, one process worker."""
    from kehoach.core.paths import PROJECT_ROOT as REPO_ROOT

    url, env = prefect_server["url"], {**prefect_server["env"], "KEHOACH_HOME": str(REPO_ROOT)}

    def prefect(*args: str, timeout: float = 180) -> str:
        done = subprocess.run([str(BIN / "prefect"), "--no-prompt", *args], env=env, cwd=REPO_ROOT,
                              capture_output=True, text=True, timeout=timeout, check=False)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    # `prefect work-pool create kehoach --type process`, through the API from this process (Prefect imported)
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.workers.process import ProcessWorker

    pool = WorkPoolCreate(name="kehoach", type="process",
                          base_job_template=ProcessWorker.get_default_base_job_template())
    _api(url, lambda c: c.create_work_pool(pool, overwrite=True))
    prefect("deploy", "--prefect-file", "prefect.yaml", "--name", "kehoach-refresh")
    found = _api(url, lambda c: c.read_deployment_by_name("refresh_package/kehoach-refresh"))
    assert (found.work_pool_name, found.entrypoint) == ("kehoach", "flows.pipeline.refresh_package")
    [schedule] = found.schedules
    assert (schedule.schedule.cron, schedule.schedule.timezone) == ("0 6 * * *", "Asia/Ho_Chi_Minh")

    # One run, pointed at this test's folders, picked up by a worker that stops after it.
    raw, out, portal = tmp_path / "raw", tmp_path / "output", tmp_path / "portal"
    raw.mkdir()
    shutil.copyfile(PLAN_FILE, raw / PLAN_FILE.name)
    run = _run_deployment(url, timeout=0,
                          parameters={"sources": [str(raw)], "out": str(out), "target": str(portal)})
    prefect("worker", "start", "--pool", "kehoach", "--run-once", timeout=300)
    final = _api(url, lambda c: c.read_flow_run(run.id))
    assert final.state.is_completed(), final.state
    assert json.loads((out / "datapackage.json").read_text(encoding="utf-8"))["version"] == "1.0.0"
    assert (portal / "catalog.json").exists()
