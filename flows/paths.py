"""Where the declared inputs live. The code runs from a checkout (editable install)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SCHEMAS_DIR = REPO_ROOT / "schemas"
REFERENCE_DIR = REPO_ROOT / "reference"
RAW_DIR = REPO_ROOT / "raw"
DEFAULT_OUT = REPO_ROOT / "output"
