"""Who and where a package is: the Data Package v2 ``id``, ``homepage``, ``contributors``, ``issued``.

``package_identity`` returns descriptor properties, and repeats the version,
dates and titles the descriptor carries so that stage hooks (the citation, the
README) can use them: the values are the same, so the descriptor does not
change by being given them twice.
"""

from __future__ import annotations

from kehoach.core.model import Tables
from kehoach.core.settings import settings
from kehoach.package.publisher import contributors
from kehoach.package.writer import PackageInfo


def package_identity(info: PackageInfo, tables: Tables, previous: dict | None = None) -> dict:
    """``homepage`` (and ``id``): the dataset's folder in the portal; ``issued``: when its first version
    was made (kept from the version this one replaces)."""
    homepage = settings().dataset_url(info.name)
    return {
        "id": homepage,
        "homepage": homepage,
        "contributors": contributors(tables),
        "issued": str((previous or {}).get("issued") or (previous or {}).get("created") or info.created),
        "name": info.name,
        "version": info.version,
        "created": info.created,
        "title_vi": info.title_vi,
        "title_en": info.title_en,
    }
