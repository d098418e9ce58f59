"""Zendesk's scope grammar (issue 9): parsing, the canonical form, what a scope allows and
the ceiling an account sets."""

from __future__ import annotations

import pytest

from tokenry.domain.errors import Invalid
from tokenry.domain.scopes import (
    allows,
    beyond,
    header_value,
    intersect,
    normalise,
    required,
)


def test_scopes_are_kept_expanded_and_sorted() -> None:
    assert normalise("users tickets:read read") == [
        "read", "tickets:read", "users:read", "users:write"]
    assert normalise(["write", "write", "impersonate"]) == ["impersonate", "write"]
    assert normalise(None) is None


@pytest.mark.parametrize("bad", [
    [], [""], ["Users"], ["users:delete"], ["users:"], [":read"], ["read:users"],
    ["impersonate:read"], ["a" * 64], ["tickets:read:write"], [7], ["x y"],
    ["s" + str(n) for n in range(65)],
])
def test_anything_else_is_refused_by_field(bad: list[object]) -> None:
    with pytest.raises(Invalid) as refused:
        normalise(bad)  # type: ignore[arg-type]
    assert "scopes" in str(refused.value)


def test_what_a_scope_allows() -> None:
    assert allows(None, "api_tokens", "write")  # unscoped: Zendesk's full power
    assert allows(["read"], "users", "read") and not allows(["read"], "users", "write")
    assert allows(["users:write"], "users", "write")
    assert not allows(["users:write"], "users", "read")  # write does not imply read
    assert not allows(["tickets:read", "tickets:write"], "users", "read")
    assert not allows(["impersonate"], "users", "read")
    assert required("users", "write") == "users:write"


def test_a_ceiling_names_what_it_does_not_grant() -> None:
    assert beyond(["tickets:read", "users:write"], ["read", "users"]) == []
    assert beyond(["tickets:write", "impersonate"], ["read"]) == ["tickets:write", "impersonate"]
    assert beyond(["impersonate"], ["impersonate"]) == []
    assert beyond(["write"], ["tickets:write"]) == ["write"]  # every resource is wider
    assert beyond(["write"], None) == []


def test_the_header_says_star_for_an_unscoped_credential() -> None:
    assert header_value(None) == "*"
    assert header_value(["read", "tickets:write"]) == "read tickets:write"


def test_the_intersection_is_what_both_grant() -> None:
    assert intersect(None, None) is None
    assert intersect(None, ["read"]) == ("read",) and intersect(("write",), None) == ("write",)
    assert intersect(["read"], ["tickets:read", "tickets:write"]) == ("tickets:read",)
    assert intersect(["users:write"], ["read"]) == ()
    assert intersect(["read", "write"], ["users:read", "read"]) == ("read",)
    assert intersect(["impersonate", "read"], ["impersonate", "users:read"]) == (
        "impersonate", "users:read")


def test_the_scopes_a_tokens_recorded_use_needs() -> None:
    from tokenry.domain.scopes import scopes_for_endpoints

    assert scopes_for_endpoints([
        "GET /api/v2/users/{user_id}", "GET /api/v2/users", "PUT /api/v2/tickets/{id}.json",
        "GET /api/v2/account/settings", "POST /api/v2/calendar_feed/rotate",
        "GET /api/v2/users/me", "GET /api/v2/verify", "GET /healthz", "HEAD /api/v2/Bad!",
    ]) == ["access_requests:write", "settings:read", "tickets:write", "users:read"]
    assert scopes_for_endpoints([]) == []
