"""The per-account API rate limit and Zendesk's headers (issue 8): every authenticated API
response says the limit and what is left; past it, 429 with Retry-After."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL, basic
from tokenry.auth.rate_limit import WINDOW, RateLimiter
from tokenry.core import Core
from tokenry.domain.errors import RateLimited
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.accounts import create_account
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.users import create_user

HEADERS = ("X-Rate-Limit", "X-Rate-Limit-Remaining", "ratelimit-limit", "ratelimit-remaining",
           "ratelimit-reset")


def test_every_authenticated_response_carries_the_rate_headers(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    first = client.get("/api/v2/users/me.json", headers=admin_auth)
    second = client.get("/api/v2/api_tokens.json", headers=admin_auth)
    assert first.headers["X-Rate-Limit"] == first.headers["ratelimit-limit"] == "6000"
    assert int(first.headers["X-Rate-Limit-Remaining"]) - 1 == int(
        second.headers["x-rate-limit-remaining"])
    assert 1 <= int(second.headers["ratelimit-reset"]) <= 60
    refused = client.get("/api/v2/users/me.json", headers=basic(ADMIN_EMAIL, "wrong"))
    assert refused.status_code == 401 and "x-rate-limit" not in refused.headers


def test_past_the_limit_the_account_gets_429_and_others_do_not(
    client: TestClient, core: Core, admin_actor: Actor, admin_auth: dict[str, str]
) -> None:
    update_account_settings(core, admin_actor, {"rate_limit_per_minute": 3})
    statuses = [client.get("/api/v2/users/me.json", headers=admin_auth).status_code
                for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.get("/api/v2/api_tokens.json", headers=admin_auth)
    assert limited.status_code == 429
    assert limited.json() == {"error": "APIRateLimitExceeded",
                              "description": "Number of allowed API requests per minute "
                                             "exceeded"}
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.headers["X-Rate-Limit"] == "3"
    assert limited.headers["X-Rate-Limit-Remaining"] == "0"
    # another account has its own allowance
    acme = create_account(core, subdomain="acme")
    boss = create_user(core, Actor.system(acme.id), email="b@acme.example", name="B",
                       role="admin")
    secret = create_token(core, Actor(account_id=acme.id, user_id=boss.id, label=boss.email,
                                      via="cli", credential="cli"), description="x").secret
    other = client.get("/api/v2/users/me.json",
                       headers=basic(boss.email, secret) | {"Host": "acme.localhost"})
    assert other.status_code == 200 and other.headers["X-Rate-Limit"] == "6000"


def test_the_window_starts_again_after_a_minute() -> None:
    now = [0.0]
    limiter = RateLimiter(clock=lambda: now[0])
    assert limiter.hit(1, 2).remaining == 1
    assert limiter.hit(1, 2).remaining == 0
    with pytest.raises(RateLimited) as refused:
        limiter.hit(1, 2)
    assert refused.value.retry_after == 60
    now[0] = WINDOW - 0.5
    with pytest.raises(RateLimited) as refused:
        limiter.hit(1, 2)
    assert refused.value.retry_after == 1
    now[0] = WINDOW
    state = limiter.hit(1, 2)
    assert (state.remaining, state.reset) == (1, 60)
