"""Where the declared inputs live, in a checkout or in an installed package.

``schemas/`` and ``reference/`` are the reviewed contract at the top of the
repository; a wheel installs them as ``kehoach/schemas`` and
``kehoach/reference`` (see ``pyproject.toml``), and the SQL of the audit
travels inside ``kehoach/audit``. ``raw/``, ``output/`` and ``portal/`` are
working folders: the checkout's when run from one, else the current directory.
"""

from __future__ import annotations

from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parents[1]
# The folder holding the code packages (a checkout, or site-packages): paths of
# code files recorded in the package (e.g. the audit's SQL) are relative to it.
CODE_ROOT = PACKAGE_DIR.parent
CODE_DIRS = (PACKAGE_DIR, CODE_ROOT / "flows")


def _data_dir(name: str) -> Path:
    installed = PACKAGE_DIR / name
    return installed if installed.is_dir() else CODE_ROOT / name


SCHEMAS_DIR = _data_dir("schemas")
REFERENCE_DIR = _data_dir("reference")
AUDIT_DIR = PACKAGE_DIR / "audit"
RULES_DIR = AUDIT_DIR / "rules"
VIEWS_SQL = AUDIT_DIR / "views.sql"

PROJECT_ROOT = CODE_ROOT if (CODE_ROOT / "pyproject.toml").is_file() else Path.cwd()
RAW_DIR = PROJECT_ROOT / "raw"
DEFAULT_OUT = PROJECT_ROOT / "output"
DEFAULT_PORTAL = PROJECT_ROOT / "portal"
