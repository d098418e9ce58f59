"""The pure rules of an API token's migration proposal (domain/migration.py)."""

from __future__ import annotations

from datetime import date

import pytest

from tokenry.domain import migration
from tokenry.domain.errors import Invalid

TODAY = date(2026, 3, 1)


def test_the_removal_date_is_the_tokens_expiry_within_the_accounts_maximum() -> None:
    def removal(expiry: date | None) -> date:
        return migration.removal_date(expiry=expiry, today=TODAY, max_lifetime_days=30)

    assert removal(date(2026, 3, 20)) == date(2026, 3, 20)
    assert removal(date(2027, 1, 1)) == date(2026, 3, 31)  # beyond the maximum
    assert removal(None) == date(2026, 3, 31)
    assert removal(TODAY) == date(2026, 3, 31)  # an expired token's date is no removal date


def test_an_unscoped_token_keeps_every_derived_scope_a_scoped_one_only_its_own() -> None:
    derived = ["audit_logs:read", "users:read", "users:write"]
    assert migration.within_token(derived, None) == derived
    assert migration.within_token(derived, ["users:read", "users:write"]) == derived[1:]
    assert migration.within_token(derived, ["read"]) == ["audit_logs:read", "users:read"]


def test_each_endpoint_names_the_scope_it_needs() -> None:
    assert migration.scope_of("GET /api/v2/users/{user_id}") == "users:read"
    assert migration.scope_of("PUT /api/v2/api_tokens/{token_id}.json") == "api_tokens:write"
    assert migration.scope_of("GET /api/v2/users/me") is None


@pytest.mark.parametrize("days", [0, -1, migration.MAX_DAYS + 1])
def test_days_out_of_range_are_refused(days: int) -> None:
    with pytest.raises(Invalid, match="days"):
        migration.check_days(days)


def test_the_use_case_lists_the_most_used_calls_and_counts_the_rest() -> None:
    calls = [(f"GET /api/v2/thing{n}", 100 - n) for n in range(25)]
    text = migration.use_case("tkry_ab**", 90, calls)
    assert text.startswith("The calls API token tkry_ab** made in the last 90 days: "
                           "GET /api/v2/thing0 (100)")
    assert "thing19 (81)" in text and "thing20" not in text and text.endswith("and 5 more")
