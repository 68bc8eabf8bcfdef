"""The CLI starts what a build needs before it needs it (issue 12): Prefect's
temporary server before the heavy imports (this module), a corpus's local Dask
cluster while the sources are checked; and it leaves no process behind (both
on a corpus built by the CLI: ``tests/flows/test_fanout.py``, which shares
its corpus and the reference built from it).

That a build by the CLI imports none of Prefect's server application (the
server runs in its own process) and is quiet by default is checked on the
one-plan builds of the load test (``tests/flows/test_busy_machine.py``): a
CLI with its own temporary server less here.
"""

from __future__ import annotations

import os
import subprocess
import sys

from flows import cli


def test_importing_the_cli_imports_no_prefect():
    """The CLI launches the server before it imports Prefect and the library (flows.cli)."""
    code = ("import sys, flows.cli; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('prefect', 'prefect_dask', 'distributed', 'pyarrow', 'duckdb') or m.startswith('flows.pipeline')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_prefects_progress_lines_are_shown_with_verbose_only(monkeypatch):
    monkeypatch.delenv(cli.PREFECT_LEVEL)
    cli.set_verbosity(cli.build_parser().parse_args(["build", "--verbose"]))
    assert os.environ[cli.PREFECT_LEVEL] == "INFO"
    monkeypatch.delenv(cli.PREFECT_LEVEL)
    cli.set_verbosity(cli.build_parser().parse_args(["publish"]))
    assert os.environ[cli.PREFECT_LEVEL] == "WARNING"
    monkeypatch.setenv(cli.PREFECT_LEVEL, "DEBUG")  # a level set in the environment is kept
    cli.set_verbosity(cli.build_parser().parse_args(["refresh"]))
    assert os.environ[cli.PREFECT_LEVEL] == "DEBUG"
