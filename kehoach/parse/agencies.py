"""The agency registry and the reading of agency cells into mentions.

``reference/agencies.csv`` is the maintained code list. Rows with scope
``province`` are templates (every province has a 'Sở TT&TT'); they are
instantiated for the province of each plan, so a plan from another province
resolves its departments without new rows. Rows with scope ``local`` belong
to one province (its districts, named boards and schools); ``national`` rows
are central bodies.

A cell such as ``Sở TT&TT, Văn phòng UBND tỉnh; UBND cấp huyện, cấp xã`` is
split on ',' and ';', except where a known name itself contains commas
('Các Sở, ban, ngành tỉnh'); a piece made of several known names run
together ('Sở TT&TT UBND cấp huyện') is split into each of them, and so is
'Các sở, ban, ngành và UBND các huyện, thị xã, thành phố' (known names
joined by 'và'). A mention that cannot be resolved is kept verbatim with no
agency id, and ``report_unresolved`` warns about it with its source line.
In running text ('phối hợp với Sở Nội vụ, Sở TT&TT hướng dẫn …'),
``leading_mentions`` reads the known names at the start.

Agencies have dates (``valid_from``/``valid_to``: the 2025 mergers, the end of
the district level): a registry is made for a day, the plan's issue date, and a
name that several agencies bore resolves to the one that existed that day. A
name only an agency that had ceased bore still resolves to it (the plan names
it; the audit's rule ``agency_ceased`` reports it with its successor).

The People's Committees of the province's districts and communes come from the
official code lists (``kehoach.core.places``), not from rows written here: those
that existed on the registry's day and those that had ceased by then, each with
its official code, its dates, and the names a plan calls it by ('UBND huyện Bình
Sơn', 'TX Đức Phổ', and 'Bình Sơn' alone where no other unit of the province bore
that name at the same time; a name a row of ``agencies.csv`` gives is that row's).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import cache

from kehoach.core.errors import KehoachError
from kehoach.core.model import TableBuilder
from kehoach.core.paths import REFERENCE_DIR
from kehoach.core.places import PlaceUnit, unit_changes, units_of
from kehoach.core.text import clean, fold, key, slug
from kehoach.core.vocabularies import split_list, vocabulary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Agency:
    agency_id: str
    name_vi: str
    name_en: str
    level: str
    kind: str
    province: str | None
    admin_code: str | None
    aliases: tuple[str, ...]
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date | None) -> bool:
        """Whether the agency existed on ``day`` (any agency, when no day is known)."""
        return day is None or ((self.valid_from is None or self.valid_from <= day)
                               and (self.valid_to is None or day <= self.valid_to))

    def distance(self, day: date | None) -> int:
        """Days between ``day`` and the agency's existence (0 when it existed then)."""
        if day is None or self.valid_on(day):
            return 0
        if self.valid_to is not None and day > self.valid_to:
            return (day - self.valid_to).days
        return (self.valid_from - day).days if self.valid_from else 0


@dataclass(frozen=True)
class Mention:
    text: str
    agency_id: str | None


_SEPARATOR = re.compile(r"[,;]")
# A cell written as a list ('- Vụ Đất đai - Cục Quy hoạch …', its line breaks lost) also separates on its dashes;
# a name holding ' - ' ('Vụ Kế hoạch - Tài chính') is still found whole, as names holding commas are.
_LIST_SEPARATOR = re.compile(r"[,;]|^-\s*|\s+-\s+")
# Texts whose agency a registry remembers (a few MB at most).
_RESOLVED_MAX = 50_000
_AND = re.compile(r"\s+và\s+")
# Longest agency name, in words, looked for in running text.
_MAX_NAME_WORDS = 14
# Words that make the rest of a piece a qualifier of the name before it
# ('Các đơn vị được giao tại Công văn số …'); anything else after a known
# name ('UBND huyện Hoài Ân') means a different, unknown body.
QUALIFIERS = ("tại", "theo", "thuộc", "của", "trên", "trong", "được", "có", "liên quan")


class AgencyRegistry:
    """Agencies known for one province on one day, with an alias index for lookups."""

    def __init__(self, province: str, province_unit: str = "tỉnh", on: date | None = None):
        self.province = province
        self.province_unit = province_unit
        self.on = on
        self._suffixes = (f" {key(province_unit)} {key(province)}", f" {key(province)}", f" {key(province_unit)}")
        self.agencies: dict[str, Agency] = {}
        self._index: dict[str, str] = {}
        self._bearers: dict[str, list[str]] = {}  # alias key -> every agency that bore it, in any period
        # text -> agency id: the same names recur in every table of a plan and in
        # every plan of a province; bounded, the registry lives as long as the process
        self._resolved: dict[str, str | None] = {}
        for row in vocabulary("agencies"):
            self._add_row(row)
        namesakes: dict[str, list[PlaceUnit]] = {}  # units of the province by the key of their bare name
        for unit in units_of(province, on):
            namesakes.setdefault(key(unit.name_vi), []).append(unit)
        for same_name in namesakes.values():
            for unit in same_name:
                self._add_place(unit, same_name)

    # -- building ------------------------------------------------------------
    def _add_row(self, row: dict[str, str]) -> None:
        scope = row["scope"]
        if scope == "local" and key(row["province"]) != key(self.province):
            return
        fill = {
            "province": self.province,
            "province_full": f"{self.province_unit} {self.province}",
            "province_en": fold(self.province),
        }
        agency_key = row["agency_key"]
        agency_id = agency_key if scope == "national" else f"{slug(self.province)}.{agency_key}"
        agency = Agency(
            agency_id=agency_id,
            name_vi=row["name_vi"].format(**fill),
            name_en=row["name_en"].format(**fill),
            level=row["level"],
            kind=row["kind"],
            province=None if scope == "national" else self.province,
            admin_code=row["admin_code"] or None,
            aliases=tuple(split_list(row["aliases"])),
            valid_from=_day(row.get("valid_from")),
            valid_to=_day(row.get("valid_to")),
        )
        self.agencies[agency_id] = agency
        for alias in (agency.name_vi, *agency.aliases):
            clash = self._index_alias(agency, alias)
            if clash:
                raise KehoachError(
                    f"alias {alias!r} names both {clash} and {agency.agency_id}", REFERENCE_DIR / "agencies.csv"
                )

    def _add_place(self, unit: PlaceUnit, namesakes: list[PlaceUnit]) -> None:
        """The People's Committee of a district or commune of the code list (``namesakes``: the units of the
        province with its name, itself included)."""
        kind = _place_kinds()[unit.unit]
        full = f"{unit.unit} {unit.name_vi}"
        names = [f"Ủy ban nhân dân {full}", full,
                 *(f"{abbreviation} {unit.name_vi}" for abbreviation in kind["abbreviations"])]
        names += [f"UBND {n}" for n in names[1:]]
        if key(unit.name_vi) != key(self.province) and not any(
                o is not unit and _overlap(o, unit) for o in namesakes):
            names.append(unit.name_vi)  # the bare name, where no other unit of the province bore it then
        agency = Agency(
            agency_id=f"{slug(self.province)}.{slug(full)}-{unit.code}",
            name_vi=names[0],
            name_en=f"{fold(unit.name_vi)} {kind['name_en']} People's Committee",
            level=unit.level, kind=unit.level, province=self.province, admin_code=unit.code,
            aliases=(), valid_from=unit.valid_from, valid_to=unit.valid_to,
        )
        # a name a row of agencies.csv gives (reviewed by hand) stays that row's
        taken = [n for n in names if not self._index_alias(agency, n)]
        self.agencies[agency.agency_id] = replace(agency, aliases=tuple(n for n in taken if n != names[0]))

    def _index_alias(self, agency: Agency, alias: str) -> str | None:
        """Index ``alias`` as a name of ``agency``; the agency that bore it at the same time instead, if any."""
        k = self.alias_key(alias)
        bearers = self._bearers.setdefault(k, [])
        if agency.agency_id in bearers:
            return None
        clash = next((b for b in bearers if _overlap(self.agencies[b], agency)), None)
        if clash:
            return clash
        self.agencies.setdefault(agency.agency_id, agency)
        bearers.append(agency.agency_id)
        # the bearer that existed on the day; else the one closest in time (a plan naming a ceased body)
        self._index[k] = min(bearers, key=lambda b: self.agencies[b].distance(self.on))
        return None

    def alias_key(self, text: str) -> str:
        """Comparison key; a trailing 'tỉnh [Quảng Ngãi]' does not change the agency."""
        k = key(text)
        for suffix in self._suffixes:
            if k.endswith(suffix) and len(k) > len(suffix):
                return k[: -len(suffix)]
        return k

    def successions(self) -> list[dict]:
        """The successions (``reference/agency_successions.csv``) between agencies of this registry."""
        found = []
        for row in vocabulary("agency_successions"):
            ids = [key_ if row["scope"] == "national" else f"{slug(self.province)}.{key_}"
                   for key_ in (row["agency_key"], row["successor_key"])]
            if all(i in self.agencies for i in ids):
                found.append({"agency_id": ids[0], "successor_agency_id": ids[1],
                              "valid_from": _day(row["valid_from"]), "basis": row["basis"]})
        return found

    # -- reading ---------------------------------------------------------------
    def resolve(self, text: str) -> str | None:
        if text in self._resolved:
            return self._resolved[text]
        if len(self._resolved) >= _RESOLVED_MAX:
            self._resolved.clear()
        found = self._resolved[text] = self._index.get(self.alias_key(text)) if clean(text) else None
        return found

    def mentions(self, cell: str | None) -> list[Mention]:
        text = clean(cell).strip(" .,;")
        if not text:
            return []
        found = self._mentions(text)
        if any(m.agency_id is None for m in found):
            # 'Các sở, ban, ngành và UBND các huyện, thị xã, thành phố': two known names joined by 'và'
            # (never split a known name that contains 'và', like 'Sở Thông tin và Truyền thông').
            joined = self._split_on_and(text)
            if joined is not None:
                return joined
        return found

    def _split_on_and(self, text: str) -> list[Mention] | None:
        for m in _AND.finditer(text):
            left = self._mentions(text[: m.start()].strip(" ,;"))
            if left and all(x.agency_id for x in left):
                right = self.mentions(text[m.end():])
                if right and all(x.agency_id for x in right):
                    return left + right
        return None

    def leading_mentions(self, text: str) -> list[Mention]:
        """Known names at the start of running text, until the first word that is not one.

        'Sở Nội vụ, Sở Thông tin và Truyền thông hướng dẫn các ngành …' -> the two departments.
        """
        words = clean(text).split()
        found: list[Mention] = []
        i = 0
        while i < len(words):
            for j in range(min(len(words), i + _MAX_NAME_WORDS), i, -1):
                name = " ".join(words[i:j]).rstrip(",;:.")
                agency_id = self.resolve(name)
                if agency_id:
                    found.append(Mention(name, agency_id))
                    ended = words[j - 1][-1] in ",;"
                    i = j
                    if i < len(words) and words[i].casefold() == "và":
                        i += 1
                    elif not ended:
                        return found
                    break
            else:
                return found
        return found

    def _mentions(self, text: str) -> list[Mention]:
        pieces = _pieces(text, _LIST_SEPARATOR if text.startswith("-") else _SEPARATOR)
        found: list[Mention] = []
        i = 0
        while i < len(pieces):
            for j in range(len(pieces), i + 1, -1):  # names that contain separators
                joined = text[pieces[i][0]: pieces[j - 1][1]]
                agency_id = self.resolve(joined)
                if agency_id:
                    found.append(Mention(clean(joined), agency_id))
                    i = j
                    break
            else:
                start, end = pieces[i]
                found.extend(self._decompose(text[start:end]))
                i += 1
        return found

    def _decompose(self, piece: str) -> list[Mention]:
        agency_id = self.resolve(piece)
        if agency_id:
            return [Mention(piece, agency_id)]
        words = piece.split()
        for n in range(len(words) - 1, 0, -1):
            head = " ".join(words[:n])
            head_id = self.resolve(head)
            if not head_id:
                continue
            rest = self._covering(words[n:])
            if rest is not None:  # run-on names: 'Sở TT&TT UBND cấp huyện'
                return [Mention(head, head_id), *rest]
            if words[n].casefold() in QUALIFIERS or " ".join(words[n:n + 2]).casefold() in QUALIFIERS:
                return [Mention(piece, head_id)]  # 'Các đơn vị được giao tại Công văn …'
            break
        return [Mention(piece, None)]

    def _covering(self, words: list[str]) -> list[Mention] | None:
        """Mentions that cover ``words`` exactly with known names, else None."""
        if not words:
            return []
        for n in range(len(words), 0, -1):
            head = " ".join(words[:n])
            agency_id = self.resolve(head)
            if agency_id:
                rest = self._covering(words[n:])
                if rest is not None:
                    return [Mention(head, agency_id), *rest]
        return None


def _pieces(text: str, separator: re.Pattern[str] = _SEPARATOR) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for m in separator.finditer(text + ","):
        raw = text[start: m.start()]
        if raw.strip():
            lead = len(raw) - len(raw.lstrip())
            spans.append((start + lead, start + len(raw.rstrip())))
        start = m.end()
    return spans


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _overlap(a: Agency | PlaceUnit, b: Agency | PlaceUnit) -> bool:
    """Whether two agencies existed on a common day (then no name may be theirs both)."""
    return ((a.valid_to is None or b.valid_from is None or b.valid_from <= a.valid_to)
            and (b.valid_to is None or a.valid_from is None or a.valid_from <= b.valid_to))


@cache
def _changes() -> tuple[date, ...]:
    """Days on which the code list changes (an agency begins, or the day after one ends)."""
    days = {_day(r["valid_from"]) for r in vocabulary("agencies") if r.get("valid_from")}
    days |= {_day(r["valid_to"]) + timedelta(days=1) for r in vocabulary("agencies") if r.get("valid_to")}
    return tuple(sorted(days | unit_changes()))


@cache
def _place_kinds() -> dict[str, dict]:
    """The kinds of district and commune (reference/place_kinds.csv): English word, abbreviations."""
    return {r["unit"]: {"name_en": r["name_en"], "abbreviations": split_list(r["abbreviations"])}
            for r in vocabulary("place_kinds")}


def registry_for(province: str, province_unit: str = "tỉnh", on: date | None = None) -> AgencyRegistry:
    """The registry of a province on day ``on`` (None: any day, each name to its earliest bearer).
    Days between two changes of the code list share one registry."""
    era = max((d for d in _changes() if on is not None and d <= on), default=None)
    return _registry(province, province_unit, era if era is not None else (on and date.min))


@cache
def _registry(province: str, province_unit: str, era: date | None) -> AgencyRegistry:
    return AgencyRegistry(province, province_unit, era)


def report_unresolved(path: str, builders: Mapping[str, TableBuilder]) -> int:
    """Warn once per agency mention that the code list does not know, in every table that has mentions.

    The rows themselves keep the mention verbatim with an empty ``agency_id``, so they stay findable
    in the data; the warning says where to look and what to add to ``reference/agencies.csv``.
    """
    count = 0
    for name, builder in builders.items():
        for row in builder.rows:
            if "mention" in row and "agency_id" in row and row["agency_id"] is None:
                count += 1
                log.warning("%s:%s: agency %r (%s) is not in reference/agencies.csv",
                            path, row.get("source_line"), row["mention"], name)
    return count
