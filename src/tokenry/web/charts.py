"""Bar charts drawn on the server as inline SVG: no script, styled by the page's stylesheet.

``bar_chart`` is pure: points in, markup out. The picture is an ``img`` to assistive
technology, summarised by its label; the page shows the same numbers in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from markupsafe import Markup, escape

WIDTH, HEIGHT = 960, 260
LEFT, RIGHT, TOP, BOTTOM = 24, 24, 40, 44  # room for the labels above and below the bars
GAP = 0.2  # the share of each slot left between bars


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 4, 6, 8, 10, 20, 40 ... at least ``value`` (and at least 1): its
    half, where the middle gridline goes, is a whole number too (but for 1)."""
    step = 1
    while True:
        for factor in (1, 2, 4, 6, 8):
            if step * factor >= value:
                return step * factor
        step *= 10


def bucket_label(start: datetime, width: timedelta, *, long: bool = False) -> str:
    """``14:00`` for an hour; ``Mar 4 12:00`` for six hours; ``Mar 4`` for a day."""
    day = f"{start:%b} {start.day}"
    if width >= timedelta(days=1):
        return day
    if width > timedelta(hours=1) or long:
        return f"{day} {start:%H:%M}"
    return f"{start:%H:%M}"


def ticks(points: Sequence[tuple[datetime, int]], width: timedelta) -> list[int]:
    """Which buckets get a time under them: every 3 hours, each midnight, or every 5 days."""
    if width <= timedelta(hours=1):
        return [i for i, (start, _) in enumerate(points) if start.hour % 3 == 0]
    if width < timedelta(days=1):
        return [i for i, (start, _) in enumerate(points) if start.hour == 0]
    last = len(points) - 1
    return [i for i in range(len(points)) if (last - i) % 5 == 0]


def _tick_text(start: datetime, width: timedelta) -> str:
    return bucket_label(start, width) if width <= timedelta(hours=1) \
        else f"{start:%b} {start.day}"


def bar_chart(points: Sequence[tuple[datetime, int]], width: timedelta, *, label: str,
              unit: str = "request") -> Markup:
    """An SVG of one bar per bucket, with the times below and the scale on the left."""
    top = nice_ceiling(max((count for _, count in points), default=0))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(points), 1)
    base = TOP + plot_height
    parts = [f'<svg class="activity-chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">',
             f"<title>{escape(label)}</title>"]
    for share in (0.5, 1.0) if top > 1 else (1.0,):  # gridlines at half and at the top
        y = base - share * plot_height
        parts.append(f'<line class="grid-line" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
                     f'y1="{y:.1f}" y2="{y:.1f}"/>')
        parts.append(f'<text class="scale" x="{LEFT}" y="{y - 6:.1f}">'
                     f"{int(top * share):,}</text>")
    for i, (start, count) in enumerate(points):
        height = count / top * plot_height
        if not count:
            continue
        height = max(height, 2.0)  # one request still shows
        x = LEFT + i * slot + slot * GAP / 2
        words = f"{bucket_label(start, width, long=True)} UTC: {count:,} {unit}" \
                f"{'' if count == 1 else 's'}"
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{base - height:.1f}" '
                     f'width="{slot * (1 - GAP):.1f}" height="{height:.1f}">'
                     f"<title>{escape(words)}</title></rect>")
    parts.append(f'<line class="axis" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" '
                 f'y2="{base}"/>')
    marks = ticks(points, width)
    for n, i in enumerate(marks):
        minor = (len(marks) - 1 - n) % 2 == 1  # every other label hides on a phone
        x = LEFT + (i + 0.5) * slot
        parts.append(f'<text class="time{" minor" if minor else ""}" x="{x:.1f}" '
                     f'y="{base + 8}" text-anchor="middle" dominant-baseline="hanging">'
                     f"{escape(_tick_text(points[i][0], width))}</text>")
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or a number
