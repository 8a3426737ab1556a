"""Bar and line charts as server-side SVG: the geometry is computed here and drawn by
the `bar_chart` and `line_chart` template macros (so every label goes through the
template's escaping).
The SVG scales to its container, which keeps it readable on a phone."""

from dataclasses import dataclass, field
from decimal import Decimal

WIDTH, HEIGHT = 640, 240
TOP, BOTTOM, SIDE = 20, 40, 8


@dataclass(frozen=True)
class Bar:
    label: str
    shown: str  # the value as printed above the bar
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Chart:
    title: str  # a message key
    bars: list[Bar]
    title_params: dict[str, str] = field(default_factory=dict)  # e.g. {"currency": "CNY"}
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM


def bar_chart(title: str, points: list[tuple[str, int | float | Decimal]],
              **title_params: str) -> Chart:
    """One bar per (label, value); values below zero are drawn as zero. The title is a
    message key, filled in with `title_params` in the reader's language."""
    if not points:
        return Chart(title, [], title_params=title_params)
    peak = max((float(value) for _label, value in points), default=0) or 1.0
    slot = (WIDTH - 2 * SIDE) / len(points)
    room = HEIGHT - TOP - BOTTOM
    bars = []
    for index, (label, value) in enumerate(points):
        height = max(float(value), 0) / peak * room
        bars.append(Bar(label, _shown(value), SIDE + index * slot + slot * 0.15,
                        HEIGHT - BOTTOM - height, slot * 0.7, height))
    return Chart(title, bars, title_params=title_params)


def _shown(value: int | float | Decimal) -> str:
    if isinstance(value, Decimal):
        return f"{value:,.0f}" if value >= 1000 else f"{value:,.2f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:,.1f}"


# Line charts: months along the bottom, a polyline per series (a month without a value
# breaks its line), drawn by the `line_chart` template macro.
COLOURS = ("#1f6feb", "#d9480f", "#2b8a3e", "#862e9c")


@dataclass(frozen=True)
class Series:
    name: str  # a message key
    colour: str
    segments: list[str]  # each a polyline's points, "x,y x,y"
    dots: list[tuple[float, float, str]]  # x, y, the value as printed


@dataclass(frozen=True)
class LineChart:
    title: str  # a message key
    labels: list[tuple[float, str]]  # x, the label under it
    series: list[Series]
    ticks: list[tuple[float, str]]  # y, the value of a grid line
    width: int = WIDTH
    height: int = HEIGHT
    left: float = 4 * SIDE
    baseline: float = HEIGHT - BOTTOM


def line_chart(title: str, labels: list[str],
               series: list[tuple[str, list[int | float | None]]],
               low: float | None = None, high: float | None = None) -> LineChart:
    """One line per (name key, values), a value per label; the scale runs from `low` to
    `high`, else from the values' least (or zero) to their greatest."""
    values = [float(v) for _name, vs in series for v in vs if v is not None]
    bottom = low if low is not None else min([0.0, *values])
    top = high if high is not None else max([bottom + 1, *values])
    left, room = 4 * SIDE, HEIGHT - TOP - BOTTOM
    step = (WIDTH - left - SIDE) / max(len(labels) - 1, 1)

    def y(value: float) -> float:
        return HEIGHT - BOTTOM - (value - bottom) / (top - bottom) * room

    drawn = []
    for index, (name, points) in enumerate(series):
        segments, dots, run = [], [], []
        for slot, value in enumerate(points):
            if value is None:
                segments += [" ".join(run)] if run else []
                run = []
                continue
            x = left + slot * step
            run.append(f"{x:.1f},{y(float(value)):.1f}")
            dots.append((x, y(float(value)), _shown(value)))
        segments += [" ".join(run)] if run else []
        drawn.append(Series(name, COLOURS[index % len(COLOURS)], segments, dots))
    ticks = [(y(v), _shown(round(v) if float(v).is_integer() else v))
             for v in (bottom, (bottom + top) / 2, top)]
    return LineChart(title, [(left + i * step, label) for i, label in enumerate(labels)],
                     drawn, ticks)
