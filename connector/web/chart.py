"""Geometry of the backlog chart: a step line of backordered units and bars of incoming stock per day.

Pure: `ChartData` in, coordinates out; the SVG itself is drawn by ``templates/app/_chart.html``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from connector.web.read_models.dashboard_reads import ChartData

WIDTH, HEIGHT = 760, 260
LEFT, RIGHT, TOP, BOTTOM = 44, 16, 16, 34


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    kind: str = "incoming"  # or "received"


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class ChartGeometry:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    backlog_path: str  # SVG path "d" of the step line
    backlog_area: str  # the same, closed to the axis (a light fill)
    bars: list[Bar]
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    today_x: float
    peak_backlog: int
    total_incoming: int
    total_received: int


def nice_scale(peak: int, divisions: int = 4) -> tuple[int, int]:
    """A whole "round" step (1, 2, 5 x 10^n) and the axis top (a multiple of it) for values up to `peak`."""
    raw = max(peak, 1) / divisions
    magnitude = 10 ** math.floor(math.log10(raw)) if raw >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return step, step * max(math.ceil(max(peak, 1) / step), 1)


def geometry(data: ChartData) -> ChartGeometry:
    n = len(data.days)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(n, 1)
    received = data.received or [0] * n
    step_y, top = nice_scale(max([*data.backordered, *data.incoming, *received, 0]))

    def y(v: float) -> float:
        return TOP + plot_h - plot_h * v / top

    points: list[str] = []
    last_x = LEFT
    for i, (day, value) in enumerate(zip(data.days, data.backordered, strict=True)):
        if day > data.today:
            break
        x0, x1 = LEFT + i * step, LEFT + (i + 1) * step
        points.append(f"{'M' if not points else 'L'}{x0:.1f},{y(value):.1f} L{x1:.1f},{y(value):.1f}")
        last_x = x1
    path = " ".join(points)
    area = f"{path} L{last_x:.1f},{y(0):.1f} L{LEFT:.1f},{y(0):.1f} Z" if points else ""
    bars = [
        Bar(LEFT + i * step + step * 0.15, y(q), step * 0.7, y(0) - y(q), f"{q} due {day:%d %b}")
        for i, (day, q) in enumerate(zip(data.days, data.incoming, strict=True))
        if q > 0
    ] + [
        Bar(LEFT + i * step + step * 0.15, y(q), step * 0.7, y(0) - y(q), f"{q} received {day:%d %b}", "received")
        for i, (day, q) in enumerate(zip(data.days, received, strict=True))
        if q > 0
    ]
    every = 7 if n <= 120 else 14
    x_ticks = [Tick(LEFT + (i + 0.5) * step, f"{day:%d %b}") for i, day in enumerate(data.days) if i % every == 0]
    y_ticks = [Tick(y(v), str(v)) for v in range(0, top + 1, step_y)]
    today_index = next((i for i, d in enumerate(data.days) if d == data.today), 0)
    return ChartGeometry(
        WIDTH,
        HEIGHT,
        LEFT,
        WIDTH - RIGHT,
        TOP,
        TOP + plot_h,
        path,
        area,
        bars,
        x_ticks,
        y_ticks,
        LEFT + (today_index + 0.5) * step,
        max(data.backordered, default=0),
        sum(data.incoming),
        sum(received),
    )
