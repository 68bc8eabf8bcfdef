"""Settings read from the environment: where the portal is, who answers questions.

``KEHOACH_PORTAL_URL``     base URL the portal folder is served at; every IRI in the DCAT
                           catalogue, the package's ``homepage``/``id`` and its citation are
                           absolute under it (default ``http://127.0.0.1:8000/``, what
                           ``python -m http.server -d portal 8000`` serves).
``KEHOACH_PUBLISHER``      who runs the portal: the catalogue's publisher (default ``kehoach``).
``KEHOACH_CONTACT_NAME``,  the contact point of every dataset; without them the contact is
``KEHOACH_CONTACT_EMAIL``  the plan's issuer (its website from ``reference/provinces.csv``).
``KEHOACH_SERVER_START_SECONDS``  how long a build waits for Prefect's temporary server while its
                           process is alive and starting (its first start creates its database):
                           default 600 (ten minutes; a loaded machine took minutes, an idle one seconds).

The portal's and contact's are read when a package is built or published, so a changed
setting is a metadata change (a patch version) and a re-publish writes the new IRIs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from kehoach.core.errors import KehoachError

DEFAULT_PORTAL_URL = "http://127.0.0.1:8000/"
DEFAULT_PUBLISHER = "kehoach"
SERVER_START_SECONDS_ENV = "KEHOACH_SERVER_START_SECONDS"
DEFAULT_SERVER_START_SECONDS = 600


@dataclass(frozen=True)
class Settings:
    portal_url: str
    publisher: str
    contact_name: str
    contact_email: str

    def dataset_url(self, name: str) -> str:
        """The dataset's folder in the portal (its landing page is served from there)."""
        return f"{self.portal_url}{name}/"


def settings() -> Settings:
    url = os.environ.get("KEHOACH_PORTAL_URL", "").strip() or DEFAULT_PORTAL_URL
    return Settings(
        portal_url=url if url.endswith("/") else f"{url}/",
        publisher=os.environ.get("KEHOACH_PUBLISHER", "").strip() or DEFAULT_PUBLISHER,
        contact_name=os.environ.get("KEHOACH_CONTACT_NAME", "").strip(),
        contact_email=os.environ.get("KEHOACH_CONTACT_EMAIL", "").strip(),
    )


def whole_number(variable: str, minimum: int | None = None) -> int | None:
    """A whole-number setting (limits, numbers of processes): None when unset;
    a clear error, naming the variable, when it is not a whole number (or is
    below ``minimum``)."""
    raw = os.environ.get(variable, "").strip()
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise KehoachError(f"{variable} must be a whole number, not {raw!r}") from None
    if minimum is not None and value < minimum:
        raise KehoachError(f"{variable} must be a whole number of at least {minimum}, not {raw!r}")
    return value


def server_start_seconds() -> int:
    """How long a build waits for a temporary Prefect server that is alive and starting."""
    value = whole_number(SERVER_START_SECONDS_ENV, minimum=1)
    return DEFAULT_SERVER_START_SECONDS if value is None else value
