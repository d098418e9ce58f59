"""Error bodies in Zendesk's shapes (issue 8): a 422's details carry Zendesk's error codes,
``BlankValue`` for what is missing or empty and ``InvalidValue`` for the rest."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.governance_people import as_, cast, request_body
from tokenry.core import Core
from tokenry.operations.context import Actor


def test_missing_fields_are_blank_values(client: TestClient, core: Core,
                                         admin_actor: Actor) -> None:
    people = cast(core, admin_actor)
    body = request_body(service_name="", purpose=None)
    response = client.post("/api/v2/access_requests.json", headers=as_(people.requester),
                           json=body)
    assert response.status_code == 422
    details = response.json()["details"]
    assert details["service_name"] == [{"description": "service_name: is required",
                                        "error": "BlankValue"}]
    assert details["purpose"][0]["error"] == "BlankValue"


def test_wrong_values_are_invalid_values(client: TestClient,
                                         admin_auth: dict[str, str]) -> None:
    response = client.post("/api/v2/api_tokens.json", headers=admin_auth,
                           json={"api_token": {"expires_at": "not a date"}})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "RecordInvalid"
    [problem] = body["details"]["expires_at"]
    assert problem["error"] == "InvalidValue" and problem["description"].startswith(
        "expires_at: ")


def test_a_missing_envelope_is_a_blank_value(client: TestClient,
                                             admin_auth: dict[str, str]) -> None:
    response = client.post("/api/v2/api_tokens.json", headers=admin_auth, json={})
    assert response.status_code == 422
    assert response.json()["details"]["api_token"][0]["error"] == "BlankValue"


def test_forbidden_is_zendesks_shape(client: TestClient, core: Core,
                                     admin_actor: Actor) -> None:
    people = cast(core, admin_actor)
    response = client.get("/api/v2/api_tokens.json", headers=as_(people.agent))
    assert response.status_code == 403
    assert set(response.json()) == {"error", "description"}
    assert response.json()["error"] == "Forbidden"
