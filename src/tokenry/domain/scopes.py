"""Scopes: what a credential may do, in Zendesk's grammar.

A scope is ``read``, ``write``, ``resource:read``, ``resource:write`` or ``resource`` alone
(Zendesk: no resource means every resource, no level means both levels), or ``impersonate``.
``read`` opens the reading requests (GET, HEAD), ``write`` the changing ones; neither implies
the other. Resource names are tokenry's own (:data:`TOKENRY_RESOURCES`) or any other name, for
the services that verify their callers through tokenry.

A credential without scopes (``None``) keeps Zendesk's API-token power: everything its user's
role allows. A scoped one may do what both its scopes and its user's role allow.

Scopes are kept in a canonical form: each written scope expanded to its levels
(``users`` -> ``users:read users:write``) and sorted, so two grants compare as sets.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from tokenry.domain.errors import Invalid

READ = "read"
WRITE = "write"
LEVELS = (READ, WRITE)
IMPERSONATE = "impersonate"
# tokenry's own API, one resource per router; a scope may name others for other services.
TOKENRY_RESOURCES = ("api_tokens", "users", "audit_logs", "access_requests", "settings",
                     "reports", "oauth")
MAX_SCOPES = 64
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")


@dataclass(frozen=True, slots=True, order=True)
class Scope:
    resource: str | None  # None: every resource
    level: str | None  # None: both levels

    def __str__(self) -> str:
        if self.resource is None:
            return self.level or "read write"
        return f"{self.resource}:{self.level}" if self.level else self.resource

    def covers(self, other: Scope) -> bool:
        """Whether this scope grants everything ``other`` does."""
        return (self.resource is None or self.resource == other.resource) and (
            self.level is None or self.level == other.level)


def parse_scope(text: str, *, field: str = "scopes") -> Scope:
    resource, _, level = text.partition(":")
    if not _:
        if text in LEVELS:
            return Scope(None, text)
        resource, level = text, ""
    if not _NAME.match(resource) or resource in LEVELS or resource == IMPERSONATE \
            or (level and level not in LEVELS) or (_ and not level):
        raise Invalid.field(field, f"{text[:70]!r} is not a scope: use read, write, "
                                   "resource:read, resource:write or impersonate")
    return Scope(resource, level or None)


def normalise(scopes: Iterable[str] | str | None, *, field: str = "scopes") -> list[str] | None:
    """The canonical list of ``scopes`` (a list, or Zendesk's space-separated string);
    ``None`` stays ``None`` (unscoped). An empty list is refused: it would grant nothing."""
    if scopes is None:
        return None
    words = scopes.split() if isinstance(scopes, str) else list(scopes)
    if not all(isinstance(word, str) for word in words):
        raise Invalid.field(field, "must be a list of strings")
    if not words:
        raise Invalid.field(field, "must name at least one scope (leave it out for none)")
    if len(words) > MAX_SCOPES:
        raise Invalid.field(field, f"may hold at most {MAX_SCOPES} scopes")
    canonical: set[str] = set()
    for word in words:
        if word == IMPERSONATE:
            canonical.add(IMPERSONATE)
            continue
        scope = parse_scope(word, field=field)
        levels = [scope.level] if scope.level else list(LEVELS)
        canonical.update(str(Scope(scope.resource, level)) for level in levels)
    return sorted(canonical)


def _parsed(scopes: Iterable[str]) -> list[Scope]:
    return [parse_scope(s) for s in scopes if s != IMPERSONATE]


def allows(scopes: Iterable[str] | None, resource: str | None, level: str) -> bool:
    """Whether a credential with ``scopes`` may ``level`` (read or write) ``resource``
    (``None``: every resource, which only a resource-less scope reaches)."""
    if scopes is None:
        return True
    wanted = Scope(resource, level)
    return any(scope.covers(wanted) for scope in _parsed(scopes))


def required(resource: str, level: str) -> str:
    """The scope a refusal names: the narrowest one that would have been enough."""
    return str(Scope(resource, level))


def beyond(scopes: Iterable[str], ceiling: Iterable[str] | None) -> list[str]:
    """The scopes of ``scopes`` that ``ceiling`` does not grant (``None``: no ceiling).
    ``impersonate`` must be in the ceiling by name."""
    if ceiling is None:
        return []
    limits = _parsed(ceiling)
    ceiling_names = set(ceiling)
    return [s for s in scopes if (IMPERSONATE not in ceiling_names if s == IMPERSONATE
                                  else not any(c.covers(parse_scope(s)) for c in limits))]


def _meet(a: Scope, b: Scope) -> Scope | None:
    """What both scopes grant: the narrower name and level, or nothing when they differ."""
    if a.resource and b.resource and a.resource != b.resource:
        return None
    if a.level and b.level and a.level != b.level:
        return None
    return Scope(a.resource or b.resource, a.level or b.level)


def intersect(first: Iterable[str] | None,
              second: Iterable[str] | None) -> tuple[str, ...] | None:
    """The scopes both grant, canonical (``None`` is everything, so it yields the other)."""
    if first is None:
        return None if second is None else tuple(second)
    if second is None:
        return tuple(first)
    a, b = list(first), list(second)
    meets = {m for x in _parsed(a) for y in _parsed(b) if (m := _meet(x, y)) is not None}
    kept = {m for m in meets if not any(o != m and o.covers(m) for o in meets)}
    names = {str(m) for m in kept}
    if IMPERSONATE in a and IMPERSONATE in b:
        names.add(IMPERSONATE)
    return tuple(sorted(names))


def header_value(scopes: Iterable[str] | None) -> str:
    """``X-Tokenry-Scopes``: the scopes space-separated, or ``*`` for an unscoped credential."""
    return "*" if scopes is None else " ".join(scopes)


# The resource a path of tokenry's own API belongs to, where it is not the path's first name.
_OWN_PATHS = {"account": "settings", "calendar_feed": "access_requests"}
# Paths any credential may call: who am I, and forward auth itself.
_NEEDS_NO_SCOPE = ("/api/v2/users/me", "/api/v2/verify")


def scopes_for_endpoints(endpoints: Iterable[str]) -> list[str]:
    """The narrowest scopes that reach every endpoint in ``endpoints`` (``"GET
    /api/v2/users/{user_id}"``, as the usage counters record them), in canonical form: the
    resource is the first name after ``/api/v2/`` (``tickets``, ``users`` ...), the level
    follows the method as the API enforces it."""
    wanted: set[str] = set()
    for endpoint in endpoints:
        method, _, path = endpoint.partition(" ")
        path = path.removesuffix(".json")
        if not path.startswith("/api/v2/") or path.startswith(_NEEDS_NO_SCOPE):
            continue
        name = path.removeprefix("/api/v2/").split("/", 1)[0]
        resource = _OWN_PATHS.get(name, name)
        if not _NAME.match(resource):
            continue
        level = READ if method.upper() in ("GET", "HEAD") else WRITE
        wanted.add(str(Scope(resource, level)))
    return sorted(wanted)
