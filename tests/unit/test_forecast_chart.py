"""Geometry of the per-SKU demand and forecast chart."""

from __future__ import annotations

from datetime import date

from connector.web.forecast_chart import forecast_geometry

TODAY = date(2026, 11, 25)


def test_history_bars_then_the_forecast_line_from_today() -> None:
    g = forecast_geometry([None, 0, 2, 4], [3.0, 3.0, 1.5], TODAY)
    assert [b.label for b in g.bars] == ["2 ordered 23 Nov", "4 ordered 24 Nov"]  # none for no sale, none before
    assert g.forecast_path.startswith("M") and g.forecast_path.count("L") == 2
    assert g.plot_left < g.bars[-1].x < g.today_x < float(g.forecast_path.split(",")[0][1:]) < g.plot_right
    assert (g.history_total, g.forecast_total) == (6, 7.5)
    assert [t.label for t in g.y_ticks] == ["0", "1", "2", "3", "4"]
    tallest = max(g.bars, key=lambda b: b.height)
    assert abs(tallest.y - g.plot_top) < 1e-6  # 4, the peak, reaches the top of the axis


def test_a_sku_without_history_or_demand_still_draws() -> None:
    g = forecast_geometry([], [0.0] * 5, TODAY)
    assert g.bars == [] and g.history_total == 0 and g.y_ticks[-1].label == "1"
    assert g.today_x == g.plot_left
