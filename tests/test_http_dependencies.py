"""The API's dependencies run on the event loop: FastAPI hands every plain ``def`` dependency
to a worker thread, and none of them does I/O (the operations do, inside the endpoint)."""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from tokenry.core import Core
from tokenry.http.app import create_app


def calls(dependant: Dependant) -> Iterator[Any]:
    for sub in dependant.dependencies:
        yield sub.call
        yield from calls(sub)


def on_the_loop(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or \
        inspect.iscoroutinefunction(getattr(call, "__call__", None))  # noqa: B004


def test_no_api_dependency_takes_a_worker_thread(core: Core) -> None:
    app = create_app(core.settings, core)
    threaded = {(route.path, getattr(call, "__name__", type(call).__name__))
                for route in app.routes
                if isinstance(route, APIRoute) and route.path.startswith("/api/v2/")
                for call in calls(route.dependant) if not on_the_loop(call)}
    assert threaded == set()
