"""The backlog chart's geometry: scale, step line up to today, bars for incoming stock."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from connector.web.chart import geometry, nice_scale
from connector.web.read_models.dashboard_reads import ChartData


@pytest.mark.parametrize(("peak", "step", "top"), [(0, 1, 1), (3, 1, 3), (5, 2, 6), (8, 2, 8), (17, 5, 20),
                                                   (40, 10, 40), (130, 50, 150)])
def test_the_scale_uses_round_whole_steps(peak: int, step: int, top: int) -> None:
    assert nice_scale(peak) == (step, top)


def test_the_line_stops_today_and_bars_mark_arrivals() -> None:
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(10)]
    data = ChartData("TEE", days, [0, 2, 2, 3, 3, 0, 0, 0, 0, 0], [0, 0, 0, 0, 0, 0, 0, 5, 0, 0], today=days[4])
    g = geometry(data)
    assert g.backlog_path.count("M") == 1 and g.backlog_path.count("L") == 9  # five days, two points each
    assert g.peak_backlog == 3 and g.total_incoming == 5
    assert [b.label for b in g.bars] == ["5 due 08 Nov"]
    bar = g.bars[0]
    assert bar.height == pytest.approx((g.plot_bottom - g.plot_top) * 5 / 6)  # the axis goes to 6
    assert bar.y + bar.height == pytest.approx(g.plot_bottom)
    assert g.plot_left < g.today_x < bar.x
    assert [t.label for t in g.y_ticks] == ["0", "2", "4", "6"]


def test_received_stock_is_drawn_apart_from_stock_due() -> None:
    days = [date(2026, 11, 1) + timedelta(days=i) for i in range(4)]
    data = ChartData("TEE", days, [0, 2, 0, 0], [0, 0, 0, 4], today=days[2], received=[0, 0, 2, 0])
    g = geometry(data)
    assert [(b.kind, b.label) for b in g.bars] == [("incoming", "4 due 04 Nov"), ("received", "2 received 03 Nov")]
    assert (g.total_incoming, g.total_received) == (4, 2)
