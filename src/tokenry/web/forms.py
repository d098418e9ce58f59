"""Reading typed form fields the way every Admin Center form does."""

from __future__ import annotations

from datetime import UTC, datetime, time

from tokenry.domain.errors import Invalid


def expiry(value: str, field: str = "expires_at") -> datetime | None:
    """A date (end of that day, UTC) or a date and time (UTC) from the form."""
    if not value:
        return None
    try:
        if "T" in value:
            return datetime.fromisoformat(value).replace(tzinfo=UTC)
        return datetime.combine(datetime.fromisoformat(value).date(), time(23, 59, 59), UTC)
    except ValueError:
        raise Invalid.field(field, "enter a date such as 2027-04-30") from None
