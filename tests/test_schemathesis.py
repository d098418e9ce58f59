"""A bounded schemathesis run against /api/openapi.json: every operation answers as documented.

Every operation gets schema-valid and invalid requests (types, bounds, odd strings) as an
admin, with derandomised, seedless generation, so a run is the same every time. Each answer
must be no server error, and must conform to the document: a documented status code, content
type, headers and body (the response models are closed, so an undocumented field fails too).
A few requests per operation go without credentials and with wrong ones, so the documented
401 is checked as well. Any failure it finds becomes a plain regression test too (see
test_bad_input.py and test_error_bodies.py).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import basic
from tests.governance_people import as_, cast, request_body
from tokenry.core import Core
from tokenry.http.app import create_app
from tokenry.operations.context import Actor

EXAMPLES_PER_OPERATION = 80
STRANGER_EXAMPLES = 4  # per operation, without credentials and with wrong ones
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]
WRONG = basic("nobody@example.com", "tkry_wrong")


def test_every_operation_answers_as_documented(core: Core, admin_actor: Actor,
                                               admin_auth: dict[str, str]) -> None:
    app = create_app(core.settings, core)
    # records with small ids, so generated ids also reach answers other than 404
    people = cast(core, admin_actor)
    seeding = TestClient(app)
    for who in (as_(people.requester), as_(people.requester)):
        filed = seeding.post("/api/v2/access_requests", headers=who,
                             json=request_body())
        assert filed.status_code == 201, filed.text
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    checked = 0

    def call(case: Any, headers: dict[str, str]) -> None:
        response = case.call(headers=headers)
        statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Failure, FailureGroup) as failure:
            failures.append(f"{case.method} {case.formatted_path} query={case.query} "
                            f"body={case.body!r} -> {response.status_code}: {failure}")

    operations = [result.ok() for result in schema.get_all_operations()]
    for operation in operations:

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None,
                  deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def as_admin(case: Any) -> None:
            call(case, dict(admin_auth))

        with contextlib.suppress(Unsatisfiable):
            as_admin()
        checked += 1
    # Last, since their failures get the test client's address throttled (a documented 429).
    for operation in operations:

        @settings(max_examples=STRANGER_EXAMPLES, derandomize=True, database=None,
                  deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def as_stranger(case: Any) -> None:
            call(case, {})
            call(case, dict(WRONG))

        with contextlib.suppress(Unsatisfiable):
            as_stranger()
    assert checked >= 28  # every documented operation was reached
    # the run really exercised the API: successes and refusals, hundreds of calls
    assert sum(statuses.values()) >= 10 * checked
    assert statuses[200] and statuses[401] and statuses[422] and statuses[429]
    assert failures == [], "\n\n".join(failures[:5])


pytestmark = pytest.mark.timeout(300)
