"""The one textual form of a timestamp tokenry shows: ISO 8601 in UTC to the second, with Z."""

from __future__ import annotations

from datetime import UTC, datetime


def iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    # isoformat is faster than strftime (a list page shows hundreds of these); the same text
    return moment.astimezone(UTC).isoformat(timespec="seconds")[:-6] + "Z"
