"""API activity over a period: its buckets and the series that fills them (pure rules)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tokenry.domain.errors import Invalid

# period -> (length, bucket width): 24 hourly, 28 six-hourly or 30 daily points
PERIODS: dict[str, tuple[timedelta, timedelta]] = {
    "24h": (timedelta(hours=24), timedelta(hours=1)),
    "7d": (timedelta(days=7), timedelta(hours=6)),
    "30d": (timedelta(days=30), timedelta(days=1)),
}


@dataclass(frozen=True, slots=True)
class Window:
    start: datetime
    end: datetime
    width: timedelta

    @property
    def buckets(self) -> int:
        return int((self.end - self.start) / self.width)


def window(period: str, now: datetime) -> Window:
    """The period ending at the end of the current bucket, aligned to whole buckets."""
    if period not in PERIODS:
        raise Invalid.field("period", f"use one of: {', '.join(PERIODS)}")
    length, width = PERIODS[period]
    epoch = datetime(2000, 1, 1, tzinfo=now.tzinfo)
    end = epoch + ((now - epoch) // width + 1) * width
    return Window(start=end - length, end=end, width=width)


def series(window_: Window, counts: Iterable[tuple[datetime, int]]) -> list[tuple[datetime, int]]:
    """Per-minute counts summed into the window's buckets; empty buckets count 0."""
    totals = [0] * window_.buckets
    for minute, count in counts:
        if window_.start <= minute < window_.end:
            totals[int((minute - window_.start) / window_.width)] += count
    return [(window_.start + i * window_.width, total) for i, total in enumerate(totals)]
