"""GET /metrics: Prometheus text from the real app, its access rules and what it counts."""

from __future__ import annotations

import base64
import contextlib
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, Clock, basic
from tests.live import free_port, http, live_server
from tests.receivers import HttpReceiver
from tokenry.core import Core
from tokenry.domain import oauth
from tokenry.domain.errors import Throttled, Unauthenticated
from tokenry.http.app import create_app
from tokenry.jobs.runner import run_jobs
from tokenry.notify.outbox import Message, enqueue
from tokenry.notify.worker import deliver_due
from tokenry.operations.account_settings import update_account_settings
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client
from tokenry.operations.web_sessions import sign_in
from tokenry.storage.database import LOOKUP_POOL_SIZE

METRICS_TOKEN = "scrape-secret-for-tests"
LIMIT = 4  # failed sign-ins from one source before it is throttled
SCRAPE = {"Authorization": f"Bearer {METRICS_TOKEN}"}
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"metrics_token": METRICS_TOKEN, "auth_failure_limit": LIMIT}


def scrape(client: TestClient) -> str:
    answer = client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


def samples(text: str) -> Samples:
    """Every sample of the exposition, keyed by name and labels; parsing it is the test that
    the text is valid."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: Samples, name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


def test_a_verified_and_a_refused_request_move_their_counters(
        client: TestClient, admin_secret: str) -> None:
    before = samples(scrape(client))
    assert client.get("/api/v2/users/me", headers=basic(ADMIN_EMAIL, admin_secret)).status_code \
        == 200
    assert client.get("/api/v2/users/me", headers=basic(ADMIN_EMAIL, admin_secret)).status_code \
        == 200
    assert client.get("/api/v2/users/me", headers=basic(ADMIN_EMAIL, "wrong")).status_code == 401
    assert client.get("/api/v2/users/me", headers=basic(ADMIN_EMAIL, "wrong", token=False)) \
        .status_code == 401
    assert client.get("/api/v2/verify").status_code == 401
    after = samples(scrape(client))

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("tokenry_verifications_total", outcome="ok", kind="api_token") == 2
    assert moved("tokenry_verifications_total", outcome="refused", kind="api_token") == 1
    assert moved("tokenry_verifications_total", outcome="refused", kind="password") == 1
    assert moved("tokenry_verifications_total", outcome="refused", kind="none") == 1
    # the first check of the token needed the database, the second was answered from memory
    assert moved("tokenry_verify_cache_total", result="miss") >= 1
    assert moved("tokenry_verify_cache_total", result="hit") >= 1
    assert value(after, "tokenry_verify_cache_entries") >= 1


def test_an_oauth_access_token_counts_as_oauth(client: TestClient, core: Core) -> None:
    access = oauth.prefix_for(core.settings.token_prefix, oauth.ACCESS)
    client.get("/api/v2/users/me", headers={"Authorization": f"Bearer {access}_nosuchtoken"})
    found = samples(scrape(client))
    assert value(found, "tokenry_verifications_total", outcome="refused", kind="oauth") == 1


def test_a_source_past_the_failure_limit_counts_as_throttled(client: TestClient,
                                                             core: Core) -> None:
    wrong = basic(ADMIN_EMAIL, "wrong")
    statuses = [client.get("/api/v2/users/me", headers=wrong).status_code for _ in range(6)]
    assert statuses == [401] * LIMIT + [429, 429]
    assert client.get("/metrics", headers=SCRAPE).status_code == 429  # the same source
    found = samples(generate_latest(core.metrics.registry).decode())
    assert value(found, "tokenry_verifications_total", outcome="refused",
                 kind="api_token") == LIMIT
    assert value(found, "tokenry_verifications_total", outcome="throttled",
                 kind="api_token") == 2
    assert value(found, "tokenry_throttled_sources_total") == 1


def test_latency_is_labelled_by_route_template_never_by_path(
        client: TestClient, admin_auth: dict[str, str]) -> None:
    assert client.get("/api/v2/api_tokens/987654321", headers=admin_auth).status_code == 404
    assert client.get("/api/v2/api_tokens/987654321.json", headers=admin_auth).status_code \
        == 404
    assert client.get("/no/such/place/s3cr3t-in-path").status_code == 404
    text = scrape(client)
    found = samples(text)
    assert "987654321" not in text and "s3cr3t" not in text
    count = "tokenry_http_request_duration_seconds_count"
    assert value(found, count, method="GET", route="/api/v2/api_tokens/{token_id}") == 2
    assert value(found, count, method="GET", route="unmatched") == 1
    routes = {dict(labels)["route"] for name, labels in found if name == count}
    assert all(route == "unmatched" or route.startswith("/") for route in routes)


def test_metrics_need_the_bearer_token(client: TestClient) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": METRICS_TOKEN}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer nope"}).status_code == 401
    encoded = base64.b64encode(f"{ADMIN_EMAIL}:{METRICS_TOKEN}".encode()).decode()
    assert client.get("/metrics", headers={"Authorization": f"Basic {encoded}"}) \
        .status_code == 401
    # LIMIT failures: guessing on is throttled, even with the right token
    assert client.get("/metrics", headers=SCRAPE).status_code == 429


def test_without_a_token_or_a_port_metrics_are_not_served(core: Core) -> None:
    core.settings = core.settings.model_copy(update={"metrics_token": None})
    with TestClient(create_app(core.settings, core)) as client:
        answer = client.get("/metrics", headers=SCRAPE)
    assert answer.status_code == 404
    assert "TOKENRY_METRICS_PORT" in answer.json()["description"]


def test_outbox_depth_and_age_and_delivery_failures(
        client: TestClient, core: Core, admin_actor: Actor, hooks: HttpReceiver,
        clock: Clock) -> None:
    update_account_settings(core, admin_actor, {"slack_webhook_url": hooks.url("/slack"),
                                                "webhook_url": hooks.url("/hook")})
    found = samples(scrape(client))
    assert value(found, "tokenry_outbox_notifications", status="pending") == 0
    assert value(found, "tokenry_outbox_oldest_pending_age_seconds") == 0
    with core.db.transaction() as session:
        for n in (1, 2):
            enqueue(session, core, admin_actor.account_id, Message(
                event="token.expiring", key=f"metrics:{n}", subject="s", text="t"), [])
    clock.now += timedelta(seconds=90)
    found = samples(scrape(client))
    assert value(found, "tokenry_outbox_notifications", status="pending") == 4  # 2 x 2 channels
    assert value(found, "tokenry_outbox_oldest_pending_age_seconds") == pytest.approx(90, abs=1)
    assert value(found, "tokenry_outbox_scrape_ok") == 1

    hooks.status = 500
    # one failure per receiver; the rows behind it wait (deferred) rather than fail too
    assert deliver_due(core).failed == 2
    found = samples(scrape(client))
    for channel in ("slack", "webhook"):
        assert value(found, "tokenry_notification_failures_total", channel=channel,
                     outcome="failed") == 1
    assert value(found, "tokenry_outbox_notifications", status="pending") == 4


def test_job_runs_and_durations_are_counted_by_job(client: TestClient, core: Core) -> None:
    run_jobs(core, only="expire_tokens")
    run_jobs(core, only="expire_tokens")
    found = samples(scrape(client))
    assert value(found, "tokenry_job_runs_total", job="expire_tokens", result="ok") == 2
    assert value(found, "tokenry_job_duration_seconds_count", job="expire_tokens") == 2
    assert value(found, "tokenry_job_runs_total", job="delete_long_deactivated",
                 result="ok") == 0


def test_database_pool_use_is_reported(client: TestClient, core: Core) -> None:
    found = samples(scrape(client))
    assert value(found, "tokenry_db_pool_size", engine="write") >= 1
    assert ("tokenry_db_pool_checked_out", frozenset({("engine", "write")})) in found
    if core.db.is_postgres:  # the pools cache misses use, on the event loop and in threads
        assert value(found, "tokenry_db_pool_size", engine="lookup_async") == LOOKUP_POOL_SIZE
        assert value(found, "tokenry_db_pool_size", engine="lookup") == LOOKUP_POOL_SIZE


def test_two_apps_in_one_process_keep_their_own_counts(
        core: Core, admin_secret: str) -> None:
    from tokenry.core import build_core

    other = build_core(core.settings)
    try:
        with TestClient(create_app(core.settings, core)) as first, \
                TestClient(create_app(other.settings, other)) as second:
            first.get("/api/v2/users/me", headers=basic(ADMIN_EMAIL, admin_secret))
            assert value(samples(scrape(first)), "tokenry_verifications_total",
                         outcome="ok", kind="api_token") == 1
            assert value(samples(scrape(second)), "tokenry_verifications_total",
                         outcome="ok", kind="api_token") == 0
    finally:
        other.close()


def test_a_metrics_port_serves_them_alone_over_the_network(
        core: Core, admin_secret: str) -> None:
    port = free_port()
    core.settings = core.settings.model_copy(update={"metrics_port": port,
                                                      "metrics_token": None})
    with live_server(core) as url:
        assert http.get(f"{url}/api/v2/users/me",
                        headers=basic(ADMIN_EMAIL, admin_secret)).status_code == 200
        assert http.get(f"{url}/metrics", headers=SCRAPE).status_code == 404
        answer = http.get(f"http://127.0.0.1:{port}/metrics")
        assert answer.status_code == 200
        found = samples(answer.text)
    assert value(found, "tokenry_verifications_total", outcome="ok", kind="api_token") == 1
    assert value(found, "tokenry_http_request_duration_seconds_count", method="GET",
                 route="/api/v2/users/me") == 1


def test_admin_center_sign_ins_are_counted_by_outcome(core: Core) -> None:
    for password in ("wrong", ADMIN_PASSWORD, *["wrong"] * LIMIT):
        with contextlib.suppress(Unauthenticated, Throttled):
            sign_in(core, "default", ADMIN_EMAIL, password, ip="203.0.113.9", user_agent=None)
    found = samples(generate_latest(core.metrics.registry).decode())
    assert value(found, "tokenry_sign_ins_total", surface="admin_center", outcome="ok") == 1
    # the limit counts failures: the one before the success and LIMIT - 1 after it are refused,
    # the last finds the source throttled
    assert value(found, "tokenry_sign_ins_total", surface="admin_center",
                 outcome="refused") == LIMIT
    assert value(found, "tokenry_sign_ins_total", surface="admin_center",
                 outcome="throttled") == 1


def test_oauth_client_secrets_are_counted_by_outcome(client: TestClient, core: Core,
                                                     admin_actor: Actor) -> None:
    assert admin_actor.user_id is not None
    created = create_oauth_client(core, admin_actor, ClientFields(
        name="Sync", identifier="sync", kind="confidential",
        redirect_uris=["https://sync.example.com/cb"], user_id=admin_actor.user_id))
    assert created.secret is not None
    statuses = [client.post("https://testserver/oauth/tokens", auth=("sync", secret),
                            data={"grant_type": "client_credentials", "scope": "read"}
                            ).status_code for secret in (created.secret, "tkryos_wrong")]
    assert statuses == [200, 401]
    found = samples(scrape(client))
    assert value(found, "tokenry_sign_ins_total", surface="oauth_client", outcome="ok") == 1
    assert value(found, "tokenry_sign_ins_total", surface="oauth_client", outcome="refused") == 1
