"""The lifecycle rules of an API token, each in exactly one place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tokenry.domain.errors import Conflict, Forbidden, Invalid, LimitReached
from tokenry.domain.text import check_text

STANDARD_LIMIT = 256
LARGE_LIMIT = 2048
MAX_DESCRIPTION = 255
EDITABLE_FIELDS = frozenset({"description", "active"})
READ_ONLY_FIELDS = frozenset(
    {"id", "url", "created_at", "updated_at", "last_used_at", "last_used_from", "created_by_id"}
)
FIXED_FIELDS = frozenset({"expires_at", "user_id", "token", "kind", "access_request_id",
                          "scopes"})


def token_limit(*, large_limit: bool, current_count: int) -> int:
    """256 per account; accounts that already held more than 256 keep a limit of 2048."""
    return LARGE_LIMIT if large_limit or current_count > STANDARD_LIMIT else STANDARD_LIMIT


def check_room_for_one_more(*, large_limit: bool, current_count: int) -> None:
    limit = token_limit(large_limit=large_limit, current_count=current_count)
    if current_count >= limit:
        raise LimitReached(
            f"This account has reached its limit of {limit} API tokens. "
            "Delete a token you no longer need before adding another.",
            {"base": [f"token limit of {limit} reached"]},
        )


def validate_description(description: str | None) -> str:
    return check_text((description or "").strip(), limit=MAX_DESCRIPTION, field="description")


def validate_expiry(expires_at: datetime | None, now: datetime,
                    max_lifetime_days: int) -> datetime | None:
    """A future moment with a time zone, within the account's maximum lifetime."""
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise Invalid.field("expires_at",
                            "must include a time zone (for example 2027-01-31T23:59:59Z)")
    try:
        expires_at = expires_at.astimezone(UTC)
    except OverflowError:  # 9999-12-31T23:59:59-05:00 lies past the end of the calendar
        raise Invalid.field("expires_at", "is too far in the future") from None
    if expires_at <= now:
        raise Invalid.field("expires_at", "must be in the future")
    if expires_at > now + timedelta(days=max_lifetime_days):
        raise Invalid.field("expires_at", f"must be within {max_lifetime_days} days (the "
                            "account's maximum lifetime, max_request_lifetime_days)")
    return expires_at


def refuse_value_change() -> Invalid:
    return Invalid(
        "The token value cannot be changed. Delete this token and create a new one.",
        {"token": ["cannot be changed; delete the token and create a new one"]},
    )


def check_deletable(*, active: bool) -> None:
    if active:
        raise Conflict("An active API token cannot be deleted. Deactivate it first.")


def check_token_access(*, token_access: bool) -> None:
    if not token_access:
        raise Forbidden(
            "API token access is turned off for this account. An admin can turn it on in "
            "the account settings (token_access)."
        )


def is_usable(*, active: bool, expires_at: datetime | None, now: datetime) -> bool:
    """A token authenticates only while active and not past its expiry."""
    return active and (expires_at is None or expires_at > now)
