"""Bar charts as hand-written SVG: static, offline and deterministic.

The landing page (``kehoach.package.landing``) draws its charts on the
server, so the page needs no script library, no network and no fonts of its
own: the same figures always give the same bytes. A chart is a list of
categories (bars) and one or more series stacked in each bar.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from decimal import Decimal
from html import escape

from kehoach.core.display import format_number

# Colour-blind-safe palette (Okabe-Ito), cycled when there are more series.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
WIDTH = 760
FONT = "font-family=\"DejaVu Sans, Arial, sans-serif\""


@dataclass
class Chart:
    """What a chart shows: ``values[s][c]`` is series ``s`` in category ``c``."""

    key: str  # file name stem: charts/<key>.svg
    title_vi: str
    title_en: str
    unit_vi: str
    unit_en: str
    categories: list[str]
    series: list[str]
    values: list[list[Decimal | int]]
    vertical: bool = False  # bars standing on a time axis (years, months) rather than lying
    note_vi: str = ""
    note_en: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.categories or not any(v for row in self.values for v in row)

    def totals(self) -> list[Decimal | int]:
        return [sum((row[c] for row in self.values), 0) for c in range(len(self.categories))]


def number(value: Decimal | int | float, lang: str = "vi") -> str:
    """A figure as the chart shows it: one decimal at most, grouped as ``lang`` reads numbers
    (the charts' text is Vietnamese first: '224.826', '1.234.567,5')."""
    value = Decimal(str(value))
    return format_number(value, lang, places=0 if value == value.to_integral_value() else 1)


def _nice_max(value: float, whole: bool) -> float:
    """The axis end: four round ticks (1, 1.5, 2, … 8 times a power of ten) reaching ``value``;
    whole-number ticks when the values are counts."""
    tick = max(value, 0.0) / 4 or 0.25
    power = 10.0 ** math.floor(math.log10(tick))
    for step in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if tick <= step * power and (not whole or (step * power) % 1 == 0):
            return 4 * step * power
    return 40 * power


def _text(x: float, y: float, text: str, anchor: str = "start", size: int = 12, extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}"{extra}>'
            f"{escape(text)}</text>")


def _short(label: str, limit: int) -> str:
    return label if len(label) <= limit else label[: limit - 1].rstrip() + "…"


def _legend(chart: Chart, y: float) -> tuple[list[str], float]:
    if len(chart.series) < 2:
        return [], y
    parts, x = [], 10.0
    for i, name in enumerate(chart.series):
        width = 22 + 7 * len(name)
        if x + width > WIDTH - 10:
            x, y = 10.0, y + 18
        parts.append(f'<rect x="{x:.1f}" y="{y - 10:.1f}" width="12" height="12" fill="{PALETTE[i % len(PALETTE)]}"/>')
        parts.append(_text(x + 16, y, name))
        x += width
    return parts, y + 20


def _bars(chart: Chart, scale: float, place) -> list[str]:
    """Stacked rectangles; ``place(c, start, length)`` gives x, y, w, h of a segment."""
    parts = []
    for c, category in enumerate(chart.categories):
        start = 0.0
        for s, series in enumerate(chart.values):
            value = float(series[c])
            if value <= 0:
                continue
            x, y, w, h = place(c, start * scale, value * scale)
            label = (f"{category} — {chart.series[s]}: {number(series[c])} {chart.unit_vi}"
                     f" / {number(series[c], 'en')} {chart.unit_en}")
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[s % len(PALETTE)]}"><title>{escape(label)}</title></rect>')
            start += value
    return parts


def render_svg(chart: Chart) -> str:
    """The chart as a standalone SVG document (also inlined in the landing page)."""
    top = 24.0
    head = [_text(10, 18, f"{chart.title_vi} / {chart.title_en}", size=14, extra=' font-weight="bold"')]
    legend, top = _legend(chart, top + 14)
    totals = [float(t) for t in chart.totals()]
    whole = all(isinstance(v, int) for row in chart.values for v in row)
    axis_max = _nice_max(max(totals, default=0.0), whole)
    body = (_vertical if chart.vertical else _horizontal)(chart, totals, axis_max, top)
    height = body.pop()
    parts = [*head, *legend, *body]
    unit = _text(10, float(height) - 6, f"{chart.unit_vi} / {chart.unit_en}", size=11, extra=' fill="#555"')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0f}" '
            f'viewBox="0 0 {WIDTH} {height:.0f}" role="img" aria-label="{escape(chart.title_en)}" {FONT}>\n'
            f"<title>{escape(chart.title_vi)} / {escape(chart.title_en)}</title>\n"
            + "\n".join([*parts, unit]) + "\n</svg>\n")


def _horizontal(chart: Chart, totals: list[float], axis_max: float, top: float) -> list:
    label_w, bar_h, gap = 330.0, 18.0, 8.0
    plot_w = WIDTH - label_w - 90
    scale = plot_w / axis_max
    parts = []
    for c, category in enumerate(chart.categories):
        y = top + c * (bar_h + gap)
        parts.append(_text(label_w - 6, y + bar_h - 5, _short(category, 46), anchor="end", size=11))
        parts.append(_text(label_w + totals[c] * scale + 4, y + bar_h - 5, number(totals[c]), size=11,
                           extra=' class="total"'))
    parts += _bars(chart, scale, lambda c, start, length: (label_w + start, top + c * (bar_h + gap), length, bar_h))
    bottom = top + len(chart.categories) * (bar_h + gap)
    parts.append(f'<line x1="{label_w}" y1="{top - 4:.1f}" x2="{label_w}" y2="{bottom:.1f}" stroke="#333"/>')
    for i in range(5):
        x = label_w + plot_w * i / 4
        parts.append(_text(x, bottom + 14, number(axis_max * i / 4), anchor="middle", size=10, extra=' fill="#555"'))
    return [*parts, bottom + 40]


def _vertical(chart: Chart, totals: list[float], axis_max: float, top: float) -> list:
    left, plot_h = 70.0, 220.0
    slot = (WIDTH - left - 20) / max(len(chart.categories), 1)
    bar_w = min(slot * 0.7, 80.0)
    scale = plot_h / axis_max
    base = top + plot_h + 10
    parts = []
    for i in range(5):
        y = base - plot_h * i / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{WIDTH - 20}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(_text(left - 6, y + 4, number(axis_max * i / 4), anchor="end", size=10, extra=' fill="#555"'))
    parts += _bars(chart, scale, lambda c, start, length: (
        left + c * slot + (slot - bar_w) / 2, base - start - length, bar_w, length))
    rotate = len(chart.categories) > 12
    for c, category in enumerate(chart.categories):
        x = left + c * slot + slot / 2
        if totals[c]:
            parts.append(_text(x, base - totals[c] * scale - 4, number(totals[c]), anchor="middle", size=10,
                               extra=' class="total"'))
        extra = f' transform="rotate(-60 {x:.1f} {base + 14:.1f})"' if rotate else ""
        parts.append(_text(x, base + 14, category, anchor="end" if rotate else "middle", size=10, extra=extra))
    parts.append(f'<line x1="{left}" y1="{base:.1f}" x2="{WIDTH - 20}" y2="{base:.1f}" stroke="#333"/>')
    return [*parts, base + (70 if rotate else 40)]
