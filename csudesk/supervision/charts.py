"""Geometry of the dashboard's server-rendered SVG charts (no script, nothing inline to allow).

The templates draw what these functions compute; each chart sits beside a table holding the
same figures, so the drawing is hidden from screen readers.
"""

import math
from dataclasses import dataclass, field

SERIES_CLASSES = 6  # csu-series-0 .. csu-series-5 in csudesk.css
LABEL_CHARS = 60  # longer bar labels are shortened (the table beside has them in full)
CHAR_WIDTH = 6.2  # average width of a character of the 11 px axis font
PLOT_MIN_WIDTH = 360


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    series: int
    title: str


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass
class Chart:
    width: int
    height: int
    rects: list[Rect] = field(default_factory=list)
    x_labels: list[Label] = field(default_factory=list)
    y_labels: list[Label] = field(default_factory=list)
    value_labels: list[Label] = field(default_factory=list)
    grid: list[float] = field(default_factory=list)  # y (columns) or x (bars) of grid lines
    legend: list[tuple[int, str]] = field(default_factory=list)
    horizontal: bool = False
    plot_left: float = 0
    plot_bottom: float = 0


def nice_ticks(maximum: float, count: int = 4) -> list[float]:
    """Round tick values from 0 to at least `maximum` (steps of 1, 2 or 5 times a power of 10)."""
    if maximum <= 0:
        return [0, 1]
    raw = maximum / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    step = max(step, 1)
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(int(round(top / step)) + 1)]


def _fmt(value: float) -> str:
    return f"{int(value):,}".replace(",", "\u202f")


def stacked_columns(
    columns: list[tuple[str, list[int]]], series: list[str], height: int = 260
) -> Chart:
    """One column per x label, its values stacked in series order (tickets per day)."""
    left, bottom, top = 44, 44, 10
    slot = max(min(36, 900 // max(len(columns), 1)), 8)
    width = left + slot * len(columns) + 10
    ticks = nice_ticks(max((sum(v) for _, v in columns), default=0))
    plot_h = height - bottom - top
    scale = plot_h / ticks[-1]
    chart = Chart(width, height, plot_left=left, plot_bottom=height - bottom)
    chart.legend = list(enumerate(series))
    for t in ticks:
        y = height - bottom - t * scale
        chart.grid.append(y)
        chart.y_labels.append(Label(left - 6, y + 4, _fmt(t)))
    every = math.ceil(len(columns) / 15)
    for i, (label, values) in enumerate(columns):
        x = left + i * slot + slot * 0.15
        y = height - bottom
        for s, value in enumerate(values):
            if value:
                h = value * scale
                y -= h
                chart.rects.append(
                    Rect(
                        x, y, slot * 0.7, h, s % SERIES_CLASSES, f"{label} — {series[s]} : {value}"
                    )
                )
        if i % every == 0:
            chart.x_labels.append(Label(x + slot * 0.35, height - bottom + 16, label))
    return chart


def horizontal_bars(
    rows: list[tuple[str, list[int]]], series: list[str], width: int = 640
) -> Chart:
    """One bar per row, its values side by side in series order (backlog, actions, channels).

    The label column is as wide as the longest label (up to LABEL_CHARS characters), so that
    labels are not cut; the plot keeps at least PLOT_MIN_WIDTH.
    """
    right, top, bar = 50, 8, 22
    longest = max((min(len(label), LABEL_CHARS) for label, _ in rows), default=0)
    left = max(120, round(longest * CHAR_WIDTH) + 14)
    width = max(width, left + PLOT_MIN_WIDTH + right)
    height = top + len(rows) * (bar + 8) + 30
    ticks = nice_ticks(max((sum(v) for _, v in rows), default=0))
    plot_w = width - left - right
    scale = plot_w / ticks[-1]
    chart = Chart(width, height, horizontal=True, plot_left=left, plot_bottom=height - 24)
    chart.legend = list(enumerate(series)) if len(series) > 1 else []
    for t in ticks:
        x = left + t * scale
        chart.grid.append(x)
        chart.x_labels.append(Label(x, height - 8, _fmt(t)))
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar + 8)
        x = left
        for s, value in enumerate(values):
            if value:
                w = value * scale
                title = (
                    f"{label} — {series[s]} : {value}" if len(series) > 1 else f"{label} : {value}"
                )
                chart.rects.append(Rect(x, y, w, bar, s % SERIES_CLASSES, title))
                x += w
        shown = label if len(label) <= LABEL_CHARS else label[: LABEL_CHARS - 1] + "…"
        chart.y_labels.append(Label(left - 8, y + bar * 0.7, shown))
        chart.value_labels.append(Label(x + 6, y + bar * 0.7, _fmt(sum(values))))
    return chart
