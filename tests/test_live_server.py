"""Over real HTTP: the lifecycle with curl and requests, and the limit under parallel creation."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import requests
from sqlalchemy import func, insert, select

from tests.conftest import ADMIN_EMAIL
from tests.live import live_server
from tokenry.core import Core
from tokenry.storage.models import ApiToken


@pytest.fixture
def base_url(core: Core) -> Iterator[str]:
    with live_server(core) as url:
        yield url


def test_whole_lifecycle_with_python_requests(base_url: str, admin_secret: str) -> None:
    session = requests.Session()
    session.auth = (f"{ADMIN_EMAIL}/token", admin_secret)
    created = session.post(f"{base_url}/api/v2/api_tokens.json",
                           json={"api_token": {"description": "requests"}}, timeout=10)
    assert created.status_code == 201
    token = created.json()["api_token"]
    url = f"{base_url}/api/v2/api_tokens/{token['id']}.json"
    new_auth = (f"{ADMIN_EMAIL}/token", token["token"])
    assert requests.get(f"{base_url}/api/v2/users/me.json", auth=new_auth, timeout=10).ok
    assert session.put(url, json={"api_token": {"description": "renamed"}}, timeout=10).ok
    assert session.delete(url, timeout=10).status_code == 409
    assert session.put(url, json={"api_token": {"active": False}}, timeout=10).ok
    assert requests.get(f"{base_url}/api/v2/users/me.json", auth=new_auth,
                        timeout=10).status_code == 401
    assert session.delete(url, timeout=10).status_code == 204
    actions = [e["tokenry_action"] for e in session.get(
        f"{base_url}/api/v2/audit_logs.json?filter[source_id]={token['id']}",
        timeout=10).json()["audit_logs"]]
    assert actions == ["destroy", "deactivate", "update", "create"]


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_whole_lifecycle_with_curl(base_url: str, admin_secret: str) -> None:
    def curl(method: str, path: str, secret: str, body: dict[str, object] | None = None
             ) -> tuple[int, dict[str, object]]:
        command = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-X", method,
                   "-u", f"{ADMIN_EMAIL}/token:{secret}", f"{base_url}{path}"]
        if body is not None:
            command += ["-H", "Content-Type: application/json", "-d", json.dumps(body)]
        result = subprocess.run(command, capture_output=True, text=True, check=True, timeout=30)
        text, _, status = result.stdout.rpartition("\n")
        return int(status), json.loads(text) if text.strip() else {}

    status, body = curl("POST", "/api/v2/api_tokens.json", admin_secret,
                        {"api_token": {"description": "curl"}})
    assert status == 201
    token = body["api_token"]
    assert isinstance(token, dict)
    status, me = curl("GET", "/api/v2/users/me.json", str(token["token"]))
    assert status == 200 and me["user"]["email"] == ADMIN_EMAIL  # type: ignore[index]
    path = f"/api/v2/api_tokens/{token['id']}.json"
    assert curl("PUT", path, admin_secret, {"api_token": {"active": False}})[0] == 200
    assert curl("GET", "/api/v2/users/me.json", str(token["token"]))[0] == 401
    assert curl("DELETE", path, admin_secret)[0] == 204


def _fill(core: Core, account_id: int, how_many: int) -> None:
    now = datetime.now(UTC)
    rows = [{"account_id": account_id, "description": f"filler {n}", "active": True,
             "secret_hash": f"{n:064x}", "display": "tkry_fill********", "created_at": now,
             "updated_at": now} for n in range(how_many)]
    with core.db.transaction() as session:
        session.execute(insert(ApiToken), rows)


def test_the_limit_of_256_holds_under_parallel_creation(base_url: str, core: Core,
                                                        admin_secret: str) -> None:
    with core.db.read() as session:
        account_id = session.scalar(select(ApiToken.account_id))
    assert account_id is not None
    _fill(core, account_id, 256 - 1 - 6)  # with the admin's own token: room for six more

    def attempt(n: int) -> int:
        response = requests.post(f"{base_url}/api/v2/api_tokens.json",
                                 auth=(f"{ADMIN_EMAIL}/token", admin_secret),
                                 json={"api_token": {"description": f"race {n}"}}, timeout=30)
        return response.status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = Counter(pool.map(attempt, range(24)))
    assert outcomes == {201: 6, 422: 18}
    with core.db.read() as session:
        assert session.scalar(select(func.count()).select_from(ApiToken)) == 256
    refused = requests.post(f"{base_url}/api/v2/api_tokens.json",
                            auth=(f"{ADMIN_EMAIL}/token", admin_secret),
                            json={"api_token": {}}, timeout=10)
    assert "limit of 256" in refused.json()["description"]


def test_an_account_already_past_256_gets_a_limit_of_2048(base_url: str, core: Core,
                                                          admin_secret: str) -> None:
    with core.db.read() as session:
        account_id = session.scalar(select(ApiToken.account_id))
    assert account_id is not None
    _fill(core, account_id, 300)  # as if imported
    auth = (f"{ADMIN_EMAIL}/token", admin_secret)
    created = requests.post(f"{base_url}/api/v2/api_tokens.json", auth=auth,
                            json={"api_token": {}}, timeout=10)
    assert created.status_code == 201
    _fill_more = 2048 - 302
    now = datetime.now(UTC)
    with core.db.transaction() as session:
        session.execute(insert(ApiToken), [
            {"account_id": account_id, "description": "", "active": True,
             "secret_hash": f"f{n:063x}", "display": "x", "created_at": now, "updated_at": now}
            for n in range(_fill_more)])
    refused = requests.post(f"{base_url}/api/v2/api_tokens.json", auth=auth,
                            json={"api_token": {}}, timeout=10)
    assert refused.status_code == 422 and "limit of 2048" in refused.json()["description"]
