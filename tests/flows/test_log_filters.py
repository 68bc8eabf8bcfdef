"""The CLI's logging configuration (flows/logging.yml) as it is applied in the CLI's process."""

from __future__ import annotations

import logging

import pytest
from prefect.logging.configuration import setup_logging


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@pytest.fixture
def nanny_messages(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv("KEHOACH_DEBUG", raising=False)
    setup_logging(incremental=False)  # the file conftest.py points Prefect to: flows/logging.yml
    kept = Kept()
    logging.getLogger("distributed").addHandler(kept)
    try:
        yield kept.messages
    finally:
        logging.getLogger("distributed").removeHandler(kept)


def test_an_idle_worker_killed_as_its_cluster_closes_is_not_reported(nanny_messages):
    # on a busy machine the nanny gives a worker 4 s to exit once the parse is over (issue 23's
    # flaky CLI test: "Worker process still alive after 4.0 seconds, killing" on stderr)
    nanny = logging.getLogger("distributed.nanny")
    nanny.warning("Worker process still alive after %.1f seconds, killing", 4.0)
    nanny.warning("Restarting worker")
    assert nanny_messages == ["Restarting worker"]


def test_kehoach_debug_shows_the_kill_again(nanny_messages, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("KEHOACH_DEBUG", "1")
    logging.getLogger("distributed.nanny").warning("Worker process still alive after 12.0 seconds, killing")
    assert nanny_messages == ["Worker process still alive after 12.0 seconds, killing"]
