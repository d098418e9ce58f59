"""The Activity tab's chart: an SVG drawn on the server, from points alone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tokenry.web.charts import bar_chart, nice_ceiling, ticks


def test_the_chart_draws_a_bar_per_busy_hour_with_times_and_a_summary() -> None:
    start = datetime(2027, 3, 4, 11, tzinfo=UTC)
    points = [(start + timedelta(hours=i), 0) for i in range(24)]
    points[3], points[23] = (points[3][0], 7), (points[23][0], 1)
    svg = str(bar_chart(points, timedelta(hours=1), label="8 requests <in a day>"))
    assert svg.startswith('<svg class="activity-chart"') and 'role="img"' in svg
    assert 'aria-label="8 requests &lt;in a day&gt;"' in svg  # escaped
    assert "<title>8 requests &lt;in a day&gt;</title>" in svg
    assert svg.count('class="bar"') == 2  # empty hours draw nothing
    assert "<title>Mar 4 14:00 UTC: 7 requests</title>" in svg
    assert "<title>Mar 5 10:00 UTC: 1 request</title>" in svg
    assert ">12:00<" in svg and ">09:00<" in svg and ">8<" in svg and ">4<" in svg
    assert [nice_ceiling(n) for n in (0, 1, 3, 5, 7, 9, 45, 61)] == [1, 1, 4, 6, 8, 10, 60, 80]
    week = [(start.replace(hour=0) + timedelta(hours=6 * i), 1) for i in range(28)]
    assert ticks(week, timedelta(hours=6)) == [0, 4, 8, 12, 16, 20, 24]
    month = [(start + timedelta(days=i), 1) for i in range(30)]
    assert ticks(month, timedelta(days=1))[-1] == 29 and ">Apr 2<" in str(
        bar_chart(month, timedelta(days=1), label="a month"))
