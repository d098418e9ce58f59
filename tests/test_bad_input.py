"""Reproducers from the attack: bad input gets a clear 4xx on both databases, never a 500."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import ADMIN_EMAIL
from tokenry.auth.throttle import FailureThrottle
from tokenry.domain.errors import Throttled

TOO_BIG = str(2**63)


@pytest.mark.parametrize("path", [
    f"/api/v2/api_tokens/{TOO_BIG}", f"/api/v2/access_requests/{TOO_BIG}",
    f"/api/v2/access_requests/{TOO_BIG}/calendar.ics",
    f"/api/v2/api_tokens.json?page={TOO_BIG}", "/api/v2/api_tokens.json?page=99999999999999999",
    f"/api/v2/audit_logs.json?filter[source_id]={TOO_BIG}",
    f"/api/v2/audit_logs.json?filter[actor_id]={TOO_BIG}",
    "/api/v2/reports/compliance.json?unused_days=2147483648",
    "/api/v2/access_requests.json?state=sub%00mitted",
    "/api/v2/audit_logs.json?filter[action]=cre%00ate",
    "/api/v2/audit_logs.json?filter[created_at][]=9999-12-31T23:59:59-05:00",
])
def test_out_of_range_numbers_and_nul_bytes_in_the_url_are_422(
    client: TestClient, admin_auth: dict[str, str], path: str
) -> None:
    response = client.get(path, headers=admin_auth)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "RecordInvalid"


def test_an_unknown_id_in_range_is_still_404(client: TestClient,
                                             admin_auth: dict[str, str]) -> None:
    assert client.get(f"/api/v2/api_tokens/{2**63 - 1}", headers=admin_auth).status_code == 404


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v2/api_tokens.json", {"api_token": {"description": "x", "user_id": 2**63}}),
    ("/api/v2/api_tokens.json", {"api_token": {"description": "nul\u0000byte"}}),
    ("/api/v2/api_tokens.json", {"api_token": {"description": "x" * 5000}}),
    ("/api/v2/api_tokens.json", {"api_token": {"expires_at": "9999-12-31T23:59:59-05:00"}}),
    ("/api/v2/api_tokens.json", {"api_token": {"expires_at": "2999-01-01T00:00:00Z"}}),
    ("/api/v2/access_requests.json", {"access_request": {
        "service_name": "s", "purpose": "p" * 5000, "use_case": "u",
        "removal_date": "2099-01-01", "admin_justification": "j"}}),
    ("/api/v2/access_requests.json", {"access_request": {
        "service_name": "s\u0000", "purpose": "p", "use_case": "u"}}),
    ("/api/v2/access_requests.json", {"access_request": {"extends_request_id": 2**63}}),
])
def test_bad_bodies_are_422(client: TestClient, admin_auth: dict[str, str], path: str,
                            body: dict[str, Any]) -> None:
    response = client.post(path, headers=admin_auth, json=body)
    assert response.status_code == 422, response.text


@pytest.mark.parametrize("value", ["²", "Infinity", "1e3", 1.5, float("inf"), [1], {"a": 1},
                                   True, None, "99999999999999999999"])
def test_odd_setting_values_are_422(client: TestClient, admin_auth: dict[str, str],
                                    value: Any) -> None:
    for group, key in (("governance", "inactivity_days"), ("governance", "reminder_days"),
                       ("api", "token_access"), ("notifications", "webhook_url")):
        if key == "token_access" and value is True:
            continue
        response = client.put("/api/v2/account/settings.json", headers=admin_auth,
                              content=_json({"settings": {group: {key: value}}}))
        assert response.status_code == 422, (key, value, response.text)


def test_a_setting_value_with_a_nul_byte_is_422(client: TestClient,
                                                admin_auth: dict[str, str]) -> None:
    response = client.put("/api/v2/account/settings.json", headers=admin_auth,
                          json={"settings": {"instance": {"display_name": "A\u0000B"}}})
    assert response.status_code == 422 and "display_name" in response.json()["details"]


def _json(value: Any) -> str:
    import json

    return json.dumps(value, allow_nan=True)  # sends Infinity as JSON5-style bare words


@pytest.mark.parametrize("path", ["/api/v2/users/me.json", "/api/v2/verify"])
@pytest.mark.parametrize("user", [f"{ADMIN_EMAIL}\u0000/token", "adm\u0000in@example.com/token",
                                  "admin@example.com\u0000"])
def test_a_nul_byte_in_basic_auth_is_the_zendesk_401(client: TestClient, admin_secret: str,
                                                     path: str, user: str) -> None:
    header = base64.b64encode(f"{user}:{admin_secret}".encode()).decode()
    response = client.get(path, headers={"Authorization": f"Basic {header}"})
    assert response.status_code == 401
    assert response.json() == {"error": "Couldn't authenticate you"}


def test_several_authorization_headers_are_refused(client: TestClient,
                                                   admin_auth: dict[str, str]) -> None:
    good = admin_auth["Authorization"]
    for headers in ([("Authorization", good), ("Authorization", "Basic Zm9vOmJhcg==")],
                    [("Authorization", "Basic Zm9vOmJhcg=="), ("Authorization", good)],
                    [("Authorization", good), ("Authorization", good)]):
        response = client.get("/api/v2/users/me.json", headers=headers)
        assert response.status_code == 401, headers


def test_a_trailing_slash_is_answered_in_place_never_redirected_by_host(
    client: TestClient, admin_auth: dict[str, str]
) -> None:
    hostile = dict(admin_auth, Host="evil.example")
    response = client.get("/api/v2/api_tokens/", headers=hostile, follow_redirects=False)
    assert response.status_code != 307 and "location" not in response.headers
    slashed = client.get("/api/v2/api_tokens/", headers=admin_auth, follow_redirects=False)
    assert slashed.status_code == 200 and "api_tokens" in slashed.json()


def test_pages_send_security_headers_and_the_docs_need_no_internet(client: TestClient) -> None:
    page = client.get("/deliveries/not-a-link")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "no-referrer"
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "frame-ancestors 'none'" in docs.headers[
        "content-security-policy"]
    assert "'unsafe-inline'" not in docs.headers["content-security-policy"].split(
        "script-src")[1].split(";")[0]
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css"):
        assert f"/api/docs/assets/{asset}" in docs.text
        assert client.get(f"/api/docs/assets/{asset}").status_code == 200
    assert "cdn." not in docs.text and "https://" not in docs.text
    assert client.get("/healthz").headers["x-content-type-options"] == "nosniff"


def test_a_flood_from_many_sources_does_not_unthrottle_an_attacker() -> None:
    now = [0.0]
    throttle = FailureThrottle(limit=3, window=60, max_sources=100, clock=lambda: now[0])
    for _ in range(3):
        throttle.record_failure("attacker")
    now[0] = 1.0
    for n in range(500):  # later, a flood of single failures from many new sources
        throttle.record_failure(f"10.0.{n // 256}.{n % 256}")
    with pytest.raises(Throttled):
        throttle.check("attacker")
    assert len(throttle._failures) <= 100  # memory stays bounded
