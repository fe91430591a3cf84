"""The dashboard's plot: a few daily series as lines in a server-rendered SVG.

No script and no inline style (the admin's CSP forbids both): the lines take their
colours from the stylesheet through their class names. Every label is escaped; the
figures are also given as a table beside the plot, for screen readers and for reading.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 12, 14, 34


@dataclass(frozen=True, kw_only=True)
class Series:
    key: str  # a class name: series-<key>
    label: str
    values: Sequence[int]


def nice_ceiling(value: int) -> int:
    """The top of the scale: 1, 2 or 5 times a power of ten, at least ``value``."""
    top = 1
    while True:
        for step in (1, 2, 5):
            if top * step >= value:
                return top * step
        top *= 10


def line_plot(
    *,
    days: Sequence[date],
    series: Sequence[Series],
    title: str,
    description: str,
    day_label: Callable[[date], str],
    number: Callable[[int], str],
) -> Markup:
    highest = nice_ceiling(max([1, *(v for s in series for v in s.values)]))
    inner_w, inner_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = inner_w / max(1, len(days) - 1)

    def x(index: int) -> float:
        return LEFT + index * step

    def y(value: int) -> float:
        return TOP + inner_h - inner_h * value / highest

    parts = [
        f'<svg class="plot" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="plot-title plot-desc" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="plot-title">{escape(title)}</title>',
        f'<desc id="plot-desc">{escape(description)}</desc>',
    ]
    for tick in (0, highest // 2, highest):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/>'
            f'<text class="axis" x="{LEFT - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">'
            f"{escape(number(tick))}</text>"
        )
    for index, day in enumerate(days):
        if (len(days) - 1 - index) % 7 == 0:  # a week apart, ending today
            anchor = "end" if index == len(days) - 1 else "middle"
            parts.append(
                f'<text class="axis" x="{x(index):.1f}" y="{HEIGHT - 12}" '
                f'text-anchor="{anchor}">{escape(day_label(day))}</text>'
            )
    for each in series:
        points = " ".join(f"{x(i):.1f},{y(v):.1f}" for i, v in enumerate(each.values))
        parts.append(
            f'<polyline class="series series-{escape(each.key)}" fill="none" points="{points}"/>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped
