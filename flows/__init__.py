"""The Prefect layer over the ``kehoach`` library: flows, tasks, deployments and the CLI.

Prefect reads its settings when it is first imported, so the CLI's defaults
are set here, before any module of this package imports Prefect: no
analytics, no log shipping, and the CLI's logging configuration (progress on
stdout; Prefect's tracebacks for expected input errors dropped, so stderr
carries only the one-line error). Values already in the environment win.
"""

import os
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_TO_API_ENABLED", "false")
os.environ.setdefault("PREFECT_LOGGING_SETTINGS_PATH", str(Path(__file__).with_name("logging.yml")))
