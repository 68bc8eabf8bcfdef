"""Settings read from the environment: where the portal is, who publishes it, who answers questions.

``KEHOACH_PORTAL_URL``        base URL the portal folder is served at; every IRI in the DCAT
                              catalogue, the package's ``homepage``/``id`` and its citation are
                              absolute under it (default ``http://127.0.0.1:8000/``, what
                              ``python -m http.server -d portal 8000`` serves: a loopback
                              address, fine for trying, wrong in anything cited).
``KEHOACH_PUBLISHER``,        the organisation that runs the portal and publishes the datasets
``KEHOACH_PUBLISHER_EMAIL``,  (name, e-mail, web address; default ``kehoach``, no e-mail, the
``KEHOACH_PUBLISHER_URL``     portal URL). The plan's issuer is not the publisher: it is the
                              author of the source text (``kehoach.package.publisher``).
``KEHOACH_PUBLISHER_DESCRIPTION``, its description and logo (CKAN's organisation).
``KEHOACH_PUBLISHER_IMAGE``
``KEHOACH_CONTACT_NAME``,     the contact point of every dataset; without them the contact is
``KEHOACH_CONTACT_EMAIL``     the publisher.
``KEHOACH_SERVER_START_SECONDS``  how long a build waits for Prefect's temporary server while its
                              process is alive and starting (its first start creates its database):
                              default 600 (ten minutes; a loaded machine took minutes, an idle one seconds).

They are read when a package is built or published. Those that reach the
package's bytes (``Settings.in_package``) are inputs of the build: a changed
one rebuilds the package (a patch version when only metadata changed), and the
changelog names it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from urllib.parse import urlsplit

from kehoach.core.errors import KehoachError

DEFAULT_PORTAL_URL = "http://127.0.0.1:8000/"
DEFAULT_PUBLISHER = "kehoach"
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "0.0.0.0")
# setting -> its variable; the first seven reach the package's bytes
VARIABLES = {
    "portal_url": "KEHOACH_PORTAL_URL",
    "publisher": "KEHOACH_PUBLISHER",
    "publisher_email": "KEHOACH_PUBLISHER_EMAIL",
    "publisher_url": "KEHOACH_PUBLISHER_URL",
    "contact_name": "KEHOACH_CONTACT_NAME",
    "contact_email": "KEHOACH_CONTACT_EMAIL",
    "publisher_description": "KEHOACH_PUBLISHER_DESCRIPTION",
    "publisher_image": "KEHOACH_PUBLISHER_IMAGE",
}
IN_PACKAGE = ("portal_url", "publisher", "publisher_email", "publisher_url", "contact_name", "contact_email")
SERVER_START_SECONDS_ENV = "KEHOACH_SERVER_START_SECONDS"
DEFAULT_SERVER_START_SECONDS = 600


@dataclass(frozen=True)
class Settings:
    portal_url: str
    publisher: str
    publisher_email: str
    publisher_url: str
    contact_name: str
    contact_email: str
    publisher_description: str = ""
    publisher_image: str = ""

    def dataset_url(self, name: str) -> str:
        """The dataset's folder in the portal (its landing page is served from there)."""
        return f"{self.portal_url}{name}/"

    @property
    def publisher_homepage(self) -> str:
        return self.publisher_url or self.portal_url

    @property
    def local_portal(self) -> bool:
        """The portal URL is a loopback address (the default): nobody else can follow it."""
        return (urlsplit(self.portal_url).hostname or "") in LOOPBACK_HOSTS

    def in_package(self) -> dict[str, str]:
        """The settings the package's bytes carry, by variable: inputs of the build."""
        return {VARIABLES[name]: getattr(self, name) for name in IN_PACKAGE}


def _read(variable: str) -> str:
    return os.environ.get(variable, "").strip()


def settings() -> Settings:
    values = {f.name: _read(VARIABLES[f.name]) for f in fields(Settings)}
    url = values["portal_url"] or DEFAULT_PORTAL_URL
    values["portal_url"] = url if url.endswith("/") else f"{url}/"
    values["publisher"] = values["publisher"] or DEFAULT_PUBLISHER
    return Settings(**values)


def changed_settings(recorded: dict[str, str] | None, current: dict[str, str]) -> list[str]:
    """The variables whose value differs from the one ``recorded`` (a build's state; none when nothing was recorded)."""
    if recorded is None:
        return []
    return sorted(v for v in set(recorded) | set(current) if recorded.get(v, "") != current.get(v, ""))


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
