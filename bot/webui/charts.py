"""Bar charts as server-side SVG: the geometry is computed here and drawn by the
`bar_chart` template macro (so every label goes through the template's escaping).
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
