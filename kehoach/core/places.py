"""Provinces by date: the official codes valid on a day, and what a province covered then.

``reference/province_units.csv`` holds the 63 provinces before 1 July 2025
(valid_to 2025-06-30) and the 34 after (valid_from 2025-07-01, Nghị quyết
202/2025/QH15; codes of Quyết định 19/2025/QĐ-TTg); ``province_mergers.csv``
maps each old code to its new one. A code does not name a territory across
the date (51 is Quảng Ngãi before, Quảng Ngãi and Kon Tum after), so a plan's
province code is the one valid on its issue date, and its coverage is said.

Below the province, ``district_units.csv`` holds the districts (huyện, quận,
thị xã, thành phố) with the dates each existed, until the district level
ended (30 June 2025), and ``commune_units.csv`` the communes (xã, phường,
đặc khu) from 1 July 2025 (Quyết định 19/2025/QĐ-TTg), each with its official
code; ``reference/README.md`` says where each list comes from.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from functools import cache
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
    territory_from: date | None  # the day its territory was made (None: before the code lists used here)


class PlaceUnit(NamedTuple):
    """A district or commune of the official code list, with the days it existed."""

    code: str
    province_code: str
    name_vi: str
    unit: str  # huyện, thị xã, xã, phường, đặc khu, … (reference/place_kinds.csv)
    level: str  # district | commune
    valid_from: date | None
    valid_to: date | None

    def valid_on(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (self.valid_to is None or day <= self.valid_to)


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def _valid(row: dict[str, str], on: date) -> bool:
    start, end = _day(row["valid_from"]), _day(row["valid_to"])
    return (start is None or start <= on) and (end is None or on <= end)


@functools.cache  # asked for every plan of a corpus, by the parse and the landing page: the same few answers
def province_on(name: str, on: date) -> Province | None:
    """The province named ``name`` as it was on ``on`` (None when no province had that name then)."""
    row = next((r for r in vocabulary("province_units") if key(r["name_vi"]) == key(name) and _valid(r, on)), None)
    return _province(row) if row is not None else None


def _province(row: dict[str, str]) -> Province:
    start = _day(row["valid_from"])
    fields = (row["code"], row["name_vi"], row["unit"], row["name_en"], start, _day(row["valid_to"]))
    if start is None:
        return Province(*fields, (row["name_vi"],), None)
    made = [m for m in vocabulary("province_mergers")
            if m["new_code"] == row["code"] and m["valid_from"] == row["valid_from"]]
    before = start - timedelta(days=1)
    if not made:  # the same territory under another kind of unit (a province become a city): as the day before
        prior = _province(next(r for r in vocabulary("province_units")
                               if r["code"] == row["code"] and _day(r["valid_to"]) == before))
        return Province(*fields, prior.covers, prior.territory_from)
    old = {r["code"]: r["name_vi"] for r in vocabulary("province_units") if _day(r["valid_to"]) == before}
    return Province(*fields, tuple(old[m["old_code"]] for m in made), start)


def coverage_vi_en(province: str, issued: date) -> tuple[str, str] | None:
    """What ``province`` covered on ``issued``: (vi, en) sentences, with how many districts or communes it
    had that day; None when the code list does not know it."""
    found = province_on(province, issued)
    if found is None:
        return None
    day, name = issued.strftime("%d/%m/%Y"), f"{found.unit.capitalize()} {found.name_vi} (mã {found.code})"
    units = _units_vi_en(province, issued)
    if not found.territory_from:
        end = found.valid_to + timedelta(days=1) if found.valid_to else None
        if end is None:
            return f"{name} vào ngày {day}{units[0]}.", f"{found.name_en} (code {found.code}) on {day}{units[1]}."
        return (f"{name} vào ngày {day}: địa giới trước ngày {end:%d/%m/%Y}{units[0]}.",
                f"{found.name_en} (code {found.code}) on {day}: its territory before {end.day} {end:%B %Y}{units[1]}.")
    start, made_of = found.territory_from, ", ".join(found.covers)
    act = next((m["basis"].split(" (")[0] for m in vocabulary("province_mergers")
                if m["new_code"] == found.code and m["valid_from"] == start.isoformat()), "")
    return (f"{name} vào ngày {day}: địa giới từ ngày {start:%d/%m/%Y}, gồm {made_of} trước đó ({act}){units[0]}.",
            f"{found.name_en} (code {found.code}) on {day}: its territory from {start.day} {start:%B %Y}, made of "
            f"the former {made_of} ({act}){units[1]}.")


def _units_vi_en(province: str, on: date) -> tuple[str, str]:
    """'; 13 đơn vị hành chính cấp huyện' and its English: the districts or communes of the day ('' when none)."""
    levels = {"district": ("đơn vị hành chính cấp huyện", "district-level units"),
              "commune": ("đơn vị hành chính cấp xã", "commune-level units")}
    counted = {level: sum(1 for u in units_of(province, on) if u.level == level and u.valid_on(on))
               for level in levels}
    parts = [(f"{n} {levels[level][0]}", f"{n} {levels[level][1]}") for level, n in counted.items() if n]
    return (f"; {', '.join(p[0] for p in parts)}", f"; {', '.join(p[1] for p in parts)}") if parts else ("", "")


@cache
def place_units() -> tuple[PlaceUnit, ...]:
    """Every district (``district_units.csv``) and commune (``commune_units.csv``) of the code lists."""
    return tuple(PlaceUnit(r["code"], r["province_code"], r["name_vi"], r["unit"], level, _day(r["valid_from"]),
                           _day(r["valid_to"]))
                 for level, name in (("district", "district_units"), ("commune", "commune_units"))
                 for r in vocabulary(name))


def units_of(province: str, on: date | None) -> list[PlaceUnit]:
    """The districts and communes under ``province`` as it was on ``on`` (None: before 1 July 2025, as the
    plans without a date were): those that existed that day and those that had ceased by then (a plan may
    still name them), never one made later. A province made by the 2025 merger has its communes and the
    districts of the provinces it was made of."""
    found = province_on(province, on or date.min)
    if found is None:
        return []
    districts = {found.code}
    if found.territory_from:
        districts |= {m["old_code"] for m in vocabulary("province_mergers")
                      if m["new_code"] == found.code and m["valid_from"] == found.territory_from.isoformat()}
    day = on or date.min
    by_province = _units_by_province()
    return [u for code in sorted(districts | {found.code}) for u in by_province.get(code, ())
            if (u.province_code in districts if u.level == "district" else u.province_code == found.code)
            and (u.valid_from is None or u.valid_from <= day)]


@cache
def _units_by_province() -> dict[str, list[PlaceUnit]]:
    found: dict[str, list[PlaceUnit]] = {}
    for unit in place_units():
        found.setdefault(unit.province_code, []).append(unit)
    return found


def unit_changes() -> set[date]:
    """Days on which a district or commune began, or the day after one ended."""
    days = {u.valid_from for u in place_units() if u.valid_from}
    return days | {u.valid_to + timedelta(days=1) for u in place_units() if u.valid_to}
