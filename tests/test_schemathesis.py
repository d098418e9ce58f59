"""A bounded schemathesis run against /api/openapi.json as an admin finds no server error.

Every operation gets schema-valid and invalid requests (types, bounds, odd strings) with
derandomised, seedless generation, so a run is the same every time and takes about a minute
per database. Any 500 it finds becomes a plain regression test too (see test_bad_input.py).
"""

from __future__ import annotations

import contextlib
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable

from tokenry.core import Core
from tokenry.http.app import create_app

EXAMPLES_PER_OPERATION = 80
SKIP = ("/api/v2/verify",)  # any method: the authentication fuzz already covers it


def test_no_operation_answers_a_server_error(core: Core, admin_auth: dict[str, str]) -> None:
    app = create_app(core.settings, core)
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
    failures: list[str] = []
    statuses: Counter[int] = Counter()
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(SKIP):
            continue

        @settings(max_examples=EXAMPLES_PER_OPERATION, derandomize=True, database=None,
                  deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def probe(case: Any) -> None:
            response = case.call(headers=dict(admin_auth))
            statuses[response.status_code] += 1
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} "
                                f"query={case.query} body={case.body!r}")

        with contextlib.suppress(Unsatisfiable):
            probe()
        checked += 1
    assert checked >= 15  # every documented operation was reached
    # the run really exercised the API: successes and refusals, hundreds of calls
    assert sum(statuses.values()) >= 10 * checked and statuses[200] and statuses[422]
    assert failures == [], failures[:5]


pytestmark = pytest.mark.timeout(300)
