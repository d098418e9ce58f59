"""Moving an API token to an OAuth integration: the rules of the proposal.

Zendesk retires API tokens on 2027-04-30; an integration with scopes replaces each one. The
scopes come from what the token was seen calling (:func:`scopes.scopes_for_endpoints`); a
scoped token's refused calls are recorded too, so they are dropped here: the integration
never gets more than the token had. Pure functions; the use case is
``operations.propose_migration``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from tokenry.domain import scopes as scope_rules
from tokenry.domain.errors import Invalid
from tokenry.domain.text import LONG_TEXT

API_TOKENS_RETIRE = date(2027, 4, 30)
DEFAULT_DAYS = 90
MAX_DAYS = 3650
_LISTED = 20  # endpoints named in the request's use case; the rest are counted


def check_days(days: int) -> int:
    if not 1 <= days <= MAX_DAYS:
        raise Invalid.field("days", f"must be between 1 and {MAX_DAYS}")
    return days


def scope_of(endpoint: str) -> str | None:
    """The scope one recorded endpoint needs (``None``: any credential may call it)."""
    found = scope_rules.scopes_for_endpoints([endpoint])
    return found[0] if found else None


def within_token(derived: Iterable[str], token_scopes: Sequence[str] | None) -> list[str]:
    """The derived scopes the token itself held: a scoped token's calls beyond its scopes
    were refused (yet counted), so the integration needs none of them."""
    kept = []
    for name in derived:
        scope = scope_rules.parse_scope(name)
        if scope_rules.allows(token_scopes, scope.resource, scope.level or scope_rules.READ):
            kept.append(name)
    return kept


def removal_date(*, expiry: date | None, today: date, max_lifetime_days: int) -> date:
    """The token's own end where it has one in range, else the account's longest lifetime."""
    latest = today + timedelta(days=max_lifetime_days)
    if expiry is None or expiry <= today:
        return latest
    return min(expiry, latest)


def service_name(*, request_service: str | None, description: str, display: str) -> str:
    name = (request_service or description).strip() or f"API token {display}"
    return name[:200]


def purpose(display: str, description: str) -> str:
    what = f"API token {display}" + (f" ({description.strip()})" if description.strip() else "")
    return (f"Replace {what} with an OAuth integration: Zendesk retires API tokens on "
            f"{API_TOKENS_RETIRE.isoformat()}.")


def use_case(display: str, days: int, calls: Sequence[tuple[str, int]]) -> str:
    """The calls the integration will make: those the token made, most used first."""
    listed = ", ".join(f"{endpoint} ({count})" for endpoint, count in calls[:_LISTED])
    rest = len(calls) - _LISTED
    text = f"The calls API token {display} made in the last {days} days: {listed}"
    if rest > 0:
        text += f", and {rest} more"
    return text[:LONG_TEXT]


def justification(display: str) -> str:
    return (f"An integration's client acts as the Integration bot, an admin; its scopes "
            f"limit it to what API token {display} was seen doing.")


def nothing_to_propose(display: str, days: int, seen: Sequence[str],
                       token_scopes: Sequence[str] | None) -> str:
    """Why no scopes could be derived, and what to give by hand instead."""
    if not seen:
        why = f"API token {display} has no recorded use in the last {days} days"
    else:
        why = (f"API token {display} called only endpoints that need no scope in the last "
               f"{days} days ({', '.join(seen[:5])})")
    hint = (f"it holds {' '.join(token_scopes)}; give those or fewer by hand"
            if token_scopes else "name the scopes the integration needs by hand, for "
            "example users:read tickets:write")
    return f"none can be proposed: {why}; {hint}"
