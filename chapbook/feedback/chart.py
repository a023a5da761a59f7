"""A line chart as inline SVG, drawn on the server so it reads without JavaScript.

Pure: numbers in, markup out. Each series gets its own colour and dash pattern (so it
can be told apart without colour), the SVG is an image with a title and description for
screen readers, and the page shows the same numbers in a table next to it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 760
HEIGHT = 330
PLOT_LEFT = 64
PLOT_RIGHT = WIDTH - 20
PLOT_TOP = 16
PLOT_BOTTOM = 250
LEGEND_Y = 284
LEGEND_ROW = 22
LEGEND_COLUMNS = 3
LEGEND_SLOT = 220
MAX_X_LABELS = 8
# Counts beyond this are clamped: no archive has them, and the arithmetic stays finite.
LARGEST = 10.0**15


@dataclass(frozen=True)
class Line:
    name: str
    values: Sequence[float]
    colour: str
    dash: str = ""  # an SVG stroke-dasharray; "" is a solid line


@dataclass(frozen=True)
class Axis:
    top: float  # the value at PLOT_TOP
    ticks: list[float]


def _clean(value: float) -> float:
    if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
        return 0.0
    return float(min(value, LARGEST))


def y_axis(peak: float) -> Axis:
    """A round top for the y axis, at or above `peak`, and 2 to 5 ticks of 1, 2 or 5 times a power of ten.

    Steps are whole numbers, as the chart shows counts.
    """
    peak = _clean(peak)
    rough = max(peak / 4, 1.0)
    magnitude = 10.0 ** math.floor(math.log10(rough))
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    top = max(step * math.ceil(peak / step), step)
    count = round(top / step)
    return Axis(top=top, ticks=[step * i for i in range(count + 1)])


def x_positions(count: int) -> list[float]:
    if count <= 0:
        return []
    if count == 1:
        return [(PLOT_LEFT + PLOT_RIGHT) / 2]
    span = (PLOT_RIGHT - PLOT_LEFT) / (count - 1)
    return [PLOT_LEFT + i * span for i in range(count)]


def y_position(value: float, axis: Axis) -> float:
    return PLOT_BOTTOM - (_clean(value) / axis.top) * (PLOT_BOTTOM - PLOT_TOP)


def points(values: Sequence[float], axis: Axis) -> list[tuple[float, float]]:
    return list(zip(x_positions(len(values)), (y_position(v, axis) for v in values)))


def _label_indices(count: int) -> list[int]:
    step = max(1, math.ceil(count / MAX_X_LABELS))
    return list(range(0, count, step))


def _number(value: float) -> str:
    return f"{int(value):,}" if value == int(value) else f"{value:,.1f}"


def _coords(pairs: Sequence[tuple[float, float]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pairs)


def render_svg(
    *,
    labels: Sequence[str],
    lines: Sequence[Line],
    title: str,
    description: str,
    chart_id: str = "chart",
    y_label: str = "Count",
) -> SafeString:
    """The chart of `lines` over the buckets named by `labels` (each line has one value per label)."""
    count = len(labels)
    peak = max((_clean(v) for line in lines for v in line.values[:count]), default=0.0)
    axis = y_axis(peak)
    xs = x_positions(count)
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    out: list[str] = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
            f'class="chart" id="{escape(chart_id)}" aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
            f'data-y-max="{_number(axis.top)}" font-size="12" font-family="sans-serif">'
        ),
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(description)}</desc>',
    ]

    # Axes: horizontal grid lines with the y labels, then the x labels under the plot.
    out.append('<g class="y-axis" fill="currentColor" stroke="none" text-anchor="end">')
    for tick in axis.ticks:
        y = y_position(tick, axis)
        out.append(
            f'<line x1="{PLOT_LEFT}" x2="{PLOT_RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="currentColor" '
            f'stroke-opacity="{0.5 if tick == 0 else 0.15}"/>'
        )
        out.append(f'<text x="{PLOT_LEFT - 6}" y="{y + 4:.1f}">{_number(tick)}</text>')
    out.append(
        f'<text x="14" y="{(PLOT_TOP + PLOT_BOTTOM) / 2:.1f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {(PLOT_TOP + PLOT_BOTTOM) / 2:.1f})">{escape(y_label)}</text>'
    )
    out.append("</g>")
    out.append('<g class="x-axis" fill="currentColor" text-anchor="middle">')
    out.append(
        f'<line x1="{PLOT_LEFT}" x2="{PLOT_LEFT}" y1="{PLOT_TOP}" y2="{PLOT_BOTTOM}" stroke="currentColor" stroke-opacity="0.5"/>'
    )
    for index in _label_indices(count):
        out.append(f'<text x="{xs[index]:.1f}" y="{PLOT_BOTTOM + 18}">{escape(labels[index])}</text>')
    out.append("</g>")

    # One polyline per series, with a dot on each point (so a single bucket still shows).
    for line in lines:
        pairs = points(list(line.values[:count]), axis)
        dash = f' stroke-dasharray="{escape(line.dash)}"' if line.dash else ""
        out.append(f'<g class="series" data-series="{escape(line.name)}" stroke="{escape(line.colour)}">')
        out.append(
            f'<polyline fill="none" stroke-width="2" stroke-linejoin="round"{dash} points="{_coords(pairs)}"/>'
        )
        for x, y in pairs:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{escape(line.colour)}"/>')
        out.append("</g>")

    # The legend, with each series' own dash pattern, so it needs no colour to be read.
    out.append('<g class="legend" fill="currentColor">')
    for index, line in enumerate(lines):
        x = PLOT_LEFT + (index % LEGEND_COLUMNS) * LEGEND_SLOT
        y = LEGEND_Y + (index // LEGEND_COLUMNS) * LEGEND_ROW
        dash = f' stroke-dasharray="{escape(line.dash)}"' if line.dash else ""
        total = sum(_clean(v) for v in line.values[:count])
        out.append(
            f'<line x1="{x:.1f}" x2="{x + 28:.1f}" y1="{y}" y2="{y}" stroke="{escape(line.colour)}" '
            f'stroke-width="2.5"{dash}/>'
        )
        out.append(f'<text x="{x + 34:.1f}" y="{y + 4}">{escape(line.name)} ({_number(total)})</text>')
    out.append("</g>")
    out.append("</svg>")
    # Every value above was escaped or is a number.
    return mark_safe("".join(out))
