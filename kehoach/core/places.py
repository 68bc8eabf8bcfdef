"""Provinces by date: the official codes valid on a day, and what a province covered then.

``reference/province_units.csv`` holds the 63 provinces before 1 July 2025
(valid_to 2025-06-30) and the 34 after (valid_from 2025-07-01, Nghị quyết
202/2025/QH15; codes of Quyết định 19/2025/QĐ-TTg); ``province_mergers.csv``
maps each old code to its new one. A code does not name a territory across
the date (51 is Quảng Ngãi before, Quảng Ngãi and Kon Tum after), so a plan's
province code is the one valid on its issue date, and its coverage is said.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from typing import NamedTuple

from kehoach.core.text import key
from kehoach.core.vocabularies import vocabulary


class Province(NamedTuple):
    code: str
    name_vi: str
    unit: str
    name_en: str
    valid_from: date | None
    valid_to: date | None
    covers: tuple[str, ...]  # the names of the provinces before the change it was made of (itself before it)


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _valid(row: dict[str, str], on: date) -> bool:
    start, end = _day(row["valid_from"]), _day(row["valid_to"])
    return (start is None or start <= on) and (end is None or on <= end)


@functools.cache  # asked for every plan of a corpus, by the parse and the landing page: the same few answers
def province_on(name: str, on: date) -> Province | None:
    """The province named ``name`` as it was on ``on`` (None when no province had that name then)."""
    row = next((r for r in vocabulary("province_units") if key(r["name_vi"]) == key(name) and _valid(r, on)), None)
    if row is None:
        return None
    covers = (row["name_vi"],)
    if row["valid_from"]:
        old = {r["code"]: r["name_vi"] for r in vocabulary("province_units") if r["valid_to"]}
        covers = tuple(old[m["old_code"]] for m in vocabulary("province_mergers")
                       if m["new_code"] == row["code"] and m["valid_from"] == row["valid_from"])
    return Province(row["code"], row["name_vi"], row["unit"], row["name_en"], _day(row["valid_from"]),
                    _day(row["valid_to"]), covers)


def coverage_vi_en(province: str, issued: date) -> tuple[str, str] | None:
    """What ``province`` covered on ``issued``: (vi, en) sentences; None when the code list does not know it."""
    found = province_on(province, issued)
    if found is None:
        return None
    day, name = issued.strftime("%d/%m/%Y"), f"{found.unit.capitalize()} {found.name_vi} (mã {found.code})"
    if not found.valid_from:
        end = found.valid_to + timedelta(days=1) if found.valid_to else None
        if end is None:
            return f"{name} vào ngày {day}.", f"{found.name_en} (code {found.code}) on {day}."
        return (f"{name} vào ngày {day}: địa giới trước ngày {end:%d/%m/%Y}.",
                f"{found.name_en} (code {found.code}) on {day}: its territory before {end.day} {end:%B %Y}.")
    start, made_of = found.valid_from, ", ".join(found.covers)
    act = next((m["basis"].split(" (")[0] for m in vocabulary("province_mergers")
                if m["new_code"] == found.code and m["valid_from"] == start.isoformat()), "")
    return (f"{name} vào ngày {day}: địa giới từ ngày {start:%d/%m/%Y}, gồm {made_of} trước đó ({act}).",
            f"{found.name_en} (code {found.code}) on {day}: its territory from {start.day} {start:%B %Y}, made of "
            f"the former {made_of} ({act}).")
