"""Server-side SVG charts drawn from the report data (no script, no CDN; readable without colour)."""

from __future__ import annotations

import math
from collections.abc import Callable

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language_bidi
from django.utils.translation import gettext as _

from supportdesk.templatetags.locale_format import local_numbers

WIDTH, HEIGHT = 520, 170
LEFT, RIGHT, TOP, BOTTOM = 52, 10, 12, 26
# Room per character of a scale label (10 px sans-serif), so that "55 min 33 s" is not cut at the chart's edge.
CHAR_WIDTH = 5.8


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    magnitude = 10 ** len(str(int(value))) / 10
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return value


def _anchor(edge: str) -> str:
    """The text-anchor that puts a label's left or right edge at its x. SVG's start and end follow the text's
    direction, which is right to left on a Persian page, where the charts still run left to right."""
    if edge == "middle":
        return edge
    return "end" if (edge == "left") == get_language_bidi() else "start"


def _frame(
    title: str, max_value: float, fmt: Callable[[float], str], labels: list[str], *, every_label: bool = False
) -> tuple[list[str], float]:
    """The chart's outline and scales, and the x where its plot starts (right of the longest scale label)."""
    parts = [
        f'<svg class="report-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    ticks = [fmt(max_value * i / 3) for i in range(4)]
    left = max(LEFT, round(8 + CHAR_WIDTH * max(len(tick) for tick in ticks)))
    plot_h = HEIGHT - TOP - BOTTOM
    for i, tick in enumerate(ticks):
        y = TOP + plot_h - plot_h * i / 3
        parts.append(f'<line class="grid" x1="{left}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(
            f'<text class="axis scale" x="{left - 6}" y="{y + 4:.1f}" text-anchor="{_anchor("right")}">'
            f"{escape(tick)}</text>"
        )
    if labels:
        for index in range(len(labels)) if every_label else sorted({0, len(labels) // 2, len(labels) - 1}):
            x = _x(index, len(labels), left, inset=every_label)
            edge = "left" if index == 0 else ("right" if index == len(labels) - 1 else "middle")
            anchor = _anchor("middle" if every_label else edge)
            parts.append(
                f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 8}" text-anchor="{anchor}">{escape(labels[index])}</text>'
            )
    return parts, left


def _x(index: int, count: int, left: float, *, inset: bool = False) -> float:
    plot_w = WIDTH - left - RIGHT
    if count <= 1:
        return left + plot_w / 2
    if inset:
        return left + plot_w * (index + 0.5) / count
    return left + plot_w * index / (count - 1)


def _y(value: float, max_value: float) -> float:
    plot_h = HEIGHT - TOP - BOTTOM
    return TOP + plot_h - plot_h * min(value, max_value) / max_value


def bar_chart(
    title: str,
    labels: list[str],
    values: list[float],
    fmt: Callable[[float], str],
    *,
    every_label: bool = False,
    max_value: float | None = None,
) -> SafeString:
    """Counts per day (the scale's ticks are whole numbers), or a few labelled bars (every_label: each bar named, the
    bars inset from the edges so that their names fit)."""
    peak = max(values, default=0)
    if max_value is None:
        max_value = 3 * math.ceil(_nice_max(peak) / 3) if peak >= 3 else 3
    parts, left = _frame(title, max_value, fmt, labels, every_label=every_label)
    plot_w = WIDTH - left - RIGHT
    width = max(plot_w / max(len(values), 1) * 0.7, 1)
    for index, value in enumerate(values):
        x = _x(index, len(values), left, inset=every_label) - width / 2
        y = _y(value, max_value)
        parts.append(
            f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{width:.1f}" height="{HEIGHT - BOTTOM - y:.1f}">'
            f"<title>{escape(labels[index])}: {escape(fmt(value))}</title></rect>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text part is escaped above


def line_chart(
    title: str,
    labels: list[str],
    values: list[float | None],
    fmt: Callable[[float], str],
    *,
    target: float | None = None,
    max_value: float | None = None,
) -> SafeString:
    """A line broken where a day has no value; the target, when given, as a dashed line."""
    present = [v for v in values if v is not None]
    if max_value is None:
        max_value = _nice_max(max(present + ([target] if target is not None else []), default=0))
    parts, left = _frame(title, max_value, fmt, labels)
    if target is not None:
        y = _y(target, max_value)
        parts.append(
            f'<line class="target" x1="{left}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}">'
            f"<title>{escape(_('Target'))}: {escape(fmt(target))}</title></line>"
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    dots: list[str] = []
    for index, value in enumerate(values):
        if value is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        x, y = _x(index, len(values), left), _y(value, max_value)
        segment.append(f"{x:.1f},{y:.1f}")
        dots.append(
            f'<circle class="dot" cx="{x:.1f}" cy="{y:.1f}" r="2.2">'
            f"<title>{escape(labels[index])}: {escape(fmt(value))}</title></circle>"
        )
    if segment:
        segments.append(segment)
    # Lines first, so that the dots (which carry the tooltips) sit on top.
    parts.extend(f'<polyline class="line" points="{" ".join(points)}"/>' for points in segments)
    parts.extend(dots)
    if not present:
        parts.append(
            f'<text class="empty" x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle">'
            f"{escape(_('Nothing measured in this period'))}</text>"
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text part is escaped above


def heatmap(title: str, grid: list[list[int]], weekdays: list[str]) -> SafeString:
    """Requests by weekday (rows) × hour (columns); darker is busier, and every cell says its count."""
    cell_w, cell_h, top = 20, 20, 18
    left = max(44, round(8 + CHAR_WIDTH * max(len(weekday) for weekday in weekdays)))
    width, height = left + 24 * cell_w + 4, top + 7 * cell_h + 4
    peak = max((n for row in grid for n in row), default=0) or 1
    parts = [
        f'<svg class="report-heatmap" viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    for hour in range(0, 24, 3):
        label = local_numbers(f"{hour:02d}")
        parts.append(
            f'<text class="axis" x="{left + hour * cell_w + 2}" y="{top - 5}" text-anchor="{_anchor("left")}">'
            f"{label}</text>"
        )
    for day, row in enumerate(grid):
        y = top + day * cell_h
        parts.append(
            f'<text class="axis scale" x="{left - 6}" y="{y + 14}" text-anchor="{_anchor("right")}">'
            f"{escape(weekdays[day])}</text>"
        )
        for hour, count in enumerate(row):
            level = count / peak
            parts.append(
                f'<rect class="cell" x="{left + hour * cell_w}" y="{y}" width="{cell_w - 2}" height="{cell_h - 2}" '
                f'fill-opacity="{0.06 + 0.94 * level:.2f}"><title>{escape(weekdays[day])} '
                f"{local_numbers(f'{hour:02d}:00 — {count}')}</title></rect>"
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 — every text part is escaped above
