"""Geometry of a SKU's demand chart: daily demand of the last weeks as bars, the forecast from
today as a line, and the reorder point and safety stock as daily rates are not drawn (they are
units over the lead time, shown in the table). Pure: plain lists in, coordinates out; the SVG is
drawn by ``templates/app/_forecast_chart.html`` in the style of the backlog chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from connector.web.chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, Bar, Tick, nice_scale


@dataclass(frozen=True)
class ForecastGeometry:
    width: int
    height: int
    plot_left: float
    plot_right: float
    plot_top: float
    plot_bottom: float
    bars: list[Bar]  # past daily demand
    forecast_path: str  # SVG path "d" of the daily forecast
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    today_x: float
    history_total: int
    forecast_total: float


def forecast_geometry(history: list[float | None], forecast: list[float], today: date) -> ForecastGeometry:
    """`history`: daily demand of the days before `today` (None: before the SKU's first sale);
    `forecast`: daily forecast from `today`."""
    n = len(history) + len(forecast)
    first = today - timedelta(days=len(history))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(n, 1)
    peak = max([*(h or 0 for h in history), *forecast, 0])
    step_y, top = nice_scale(int(-(-peak // 1)))

    def y(v: float) -> float:
        return TOP + plot_h - plot_h * v / top

    bars = [Bar(LEFT + i * step + step * 0.15, y(v), step * 0.7, y(0) - y(v),
                f"{v:g} ordered {first + timedelta(days=i):%d %b}", "history")
            for i, v in enumerate(history) if v]
    offset = len(history)
    points = [f"{'M' if k == 0 else 'L'}{LEFT + (offset + k + 0.5) * step:.1f},{y(v):.1f}"
              for k, v in enumerate(forecast)]
    every = 7 if n <= 120 else 14
    x_ticks = [Tick(LEFT + (i + 0.5) * step, f"{first + timedelta(days=i):%d %b}") for i in range(n) if i % every == 0]
    y_ticks = [Tick(y(v), str(v)) for v in range(0, top + 1, step_y)]
    return ForecastGeometry(WIDTH, HEIGHT, LEFT, WIDTH - RIGHT, TOP, TOP + plot_h, bars, " ".join(points),
                            x_ticks, y_ticks, LEFT + offset * step, int(sum(h or 0 for h in history)),
                            round(sum(forecast), 1))
