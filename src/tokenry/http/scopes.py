"""Scope checks on tokenry's own API: every authenticated route names its resource.

As on Zendesk, the level follows the HTTP method: GET and HEAD read, every other method
writes. A route declares its resource with ``dependencies=[scoped("api_tokens")]`` (on its
router, or on the route when a router mixes resources); a test walks the app and fails on an
authenticated API route without one. The scope decides what the credential may reach; the
operation still decides what the user's role allows, so the effective right is the
intersection of both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Request

from tokenry.domain.errors import InsufficientScope
from tokenry.domain.scopes import READ, TOKENRY_RESOURCES, WRITE, allows, required
from tokenry.http.deps import CurrentIdentity

READING = frozenset({"GET", "HEAD"})


@dataclass(frozen=True, slots=True)
class RequireScope:
    resource: str

    async def __call__(self, request: Request, identity: CurrentIdentity) -> None:
        level = READ if request.method in READING else WRITE
        if not allows(identity.scopes, self.resource, level):
            raise InsufficientScope(required(self.resource, level))


def scoped(resource: str) -> Any:
    """The dependency that refuses a credential whose scopes do not reach ``resource``."""
    assert resource in TOKENRY_RESOURCES, resource  # a typo would lock everyone out
    return Depends(RequireScope(resource))
