"""The one textual form of a timestamp: ISO 8601 in UTC, to the second, with ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from tokenry.domain.timefmt import iso


@pytest.mark.parametrize(("moment", "shown"), [
    # the fraction is cut, not rounded
    (datetime(2026, 1, 2, 3, 4, 5, 999_999, tzinfo=UTC), "2026-01-02T03:04:05Z"),
    (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=5))), "2026-01-01T22:04:05Z"),
    (datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
     "2026-01-02T06:34:05Z"),
    (datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC), "9999-12-31T23:59:59Z"),
    (datetime(5, 1, 1, tzinfo=UTC), "0005-01-01T00:00:00Z"),  # four digits, as ISO 8601 asks
    (None, None),
])
def test_iso(moment: datetime | None, shown: str | None) -> None:
    assert iso(moment) == shown
