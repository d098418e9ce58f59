"""OAuth rules: clients, redirect URIs, token kinds, lifetimes and the scopes a grant gets.

Every OAuth credential uses tokenry's checksummed token format with a prefix of its own,
made from the server's token prefix (``tkry`` by default) and two letters:

* ``<prefix>oa_...`` an access token (``Authorization: Bearer``), 1 hour by default;
* ``<prefix>or_...`` a refresh token, 30 days by default, spent on use (rotation);
* ``<prefix>oc_...`` an authorization code, 10 minutes, used once;
* ``<prefix>os_...`` a confidential client's secret.

So a secret scanner, and the verifier's fast path, tell them apart from API tokens
(``<prefix>_...``) by the prefix alone. A server prefix longer than 14 characters is cut
to 14 so that the OAuth prefixes stay within the format's 16.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from tokenry.domain import scopes as scope_rules
from tokenry.domain.errors import Invalid
from tokenry.domain.text import check_text

PUBLIC = "public"
CONFIDENTIAL = "confidential"
KINDS = (PUBLIC, CONFIDENTIAL)
CODE_LIFETIME = timedelta(minutes=10)
MAX_REDIRECT_URIS = 10
MAX_URI_LENGTH = 2000
ACCESS_SECONDS_RANGE = (300, 24 * 3600)
REFRESH_SECONDS_RANGE = (3600, 365 * 24 * 3600)
IDENTIFIER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})

ACCESS, REFRESH, CODE, CLIENT_SECRET = "oa", "or", "oc", "os"


def prefix_for(server_prefix: str, kind: str) -> str:
    """The token prefix of one OAuth credential kind (``ACCESS``, ``REFRESH``, ...)."""
    return f"{server_prefix[:14]}{kind}"


def validate_kind(kind: str | None, *, field: str = "kind") -> str:
    if kind is None:
        return CONFIDENTIAL  # Zendesk's default
    if kind not in KINDS:
        raise Invalid.field(field, "must be public or confidential")
    return kind


def validate_name(name: str | None) -> str:
    text = check_text((name or "").strip(), limit=200, field="name")
    if not text:
        raise Invalid.missing("name")
    return text


def validate_identifier(identifier: str | None) -> str:
    text = (identifier or "").strip()
    if not text:
        raise Invalid.missing("identifier")
    if not IDENTIFIER.match(text):
        raise Invalid.field("identifier", "must be 1-100 letters, digits, '.', '_' or '-', "
                                          "starting with a letter or digit")
    return text


def validate_redirect_uris(uris: Iterable[str] | None, *,
                           field: str = "redirect_uri") -> list[str]:
    """Exact URIs a code may be sent to: https, or http on the loopback interface only
    (RFC 8252 native apps); no fragment. Matching is exact, so they are stored as given."""
    values = list(uris or [])
    if len(values) > MAX_REDIRECT_URIS:
        raise Invalid.field(field, f"may hold at most {MAX_REDIRECT_URIS} URIs")
    for uri in values:
        if not isinstance(uri, str) or not uri or len(uri) > MAX_URI_LENGTH \
                or not uri.isprintable() or " " in uri:
            raise Invalid.field(field, "each must be an absolute URL of at most "
                                                f"{MAX_URI_LENGTH} characters")
        try:
            parts = urlsplit(uri)
            host = parts.hostname or ""
        except ValueError:
            raise Invalid.field(field, f"{uri[:80]!r} is not a URL") from None
        if parts.fragment or "#" in uri:
            raise Invalid.field(field, "must not carry a fragment")
        secure = parts.scheme == "https" and host
        loopback = parts.scheme == "http" and (host in _LOOPBACK or parts.netloc.split(":")[0]
                                              in _LOOPBACK)
        if not (secure or loopback):
            raise Invalid.field(field, f"{uri[:80]!r}: use https, or http only on "
                                                "127.0.0.1 or localhost")
    return list(dict.fromkeys(values))


def validate_lifetime(field: str, seconds: int | None, bounds: tuple[int, int]) -> int | None:
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, int) \
            or not bounds[0] <= seconds <= bounds[1]:
        raise Invalid.field(field, f"must be a number of seconds between {bounds[0]} and "
                                   f"{bounds[1]}")
    return seconds


def client_scopes(scopes: Iterable[str] | str | None, ceiling: Sequence[str] | None,
                  creator: Sequence[str] | None = None) -> list[str] | None:
    """A client's ``allowed_scopes`` in canonical form, within the account's ceiling and
    within the scopes of the credential that sets them: a scoped credential can never make
    a client that mints wider tokens than itself (none asked for: the creator's own)."""
    canonical = scope_rules.normalise(scopes, field="allowed_scopes")
    if canonical is None and creator is not None:
        canonical = list(creator)
    if canonical is not None:
        for limit, whose in ((ceiling, "this account allows"),
                             (creator, "the credential making this change holds")):
            over = scope_rules.beyond(canonical, limit)
            if over:
                raise Invalid.field("allowed_scopes", f"beyond what {whose}: "
                                                      + " ".join(over))
    return canonical


class ScopeRefused(Exception):
    """A grant asked for scopes the client or the account does not allow (``invalid_scope``)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


DEFAULT_SCOPES = ("read", "write")


def granted_scopes(requested: str | Sequence[str] | None, client_allowed: Sequence[str] | None,
                   ceiling: Sequence[str] | None) -> list[str]:
    """The scopes a grant gets: what was asked for, when both the client's allowed scopes
    and the account's ceiling grant all of it; asking for more is refused, never trimmed, so
    a client learns at once that it cannot have what it asked for. Asking for nothing gets
    the client's allowed scopes (or, failing those, the ceiling, or read and write)."""
    if requested is None or (isinstance(requested, str) and not requested.strip()):
        requested = list(client_allowed or ceiling or DEFAULT_SCOPES)
    try:
        wanted = scope_rules.normalise(requested, field="scope")
    except Invalid as error:
        raise ScopeRefused(error.description) from None
    assert wanted is not None
    for limit, whose in ((client_allowed, "this client"), (ceiling, "this account")):
        over = scope_rules.beyond(wanted, limit)
        if over:
            raise ScopeRefused(f"{' '.join(over)} is beyond what {whose} allows")
    return wanted


def narrower(requested: str | None, held: Sequence[str]) -> list[str]:
    """A refresh may ask for the same scopes or fewer, never more (RFC 6749 section 6)."""
    if requested is None or not requested.strip():
        return list(held)
    try:
        wanted = scope_rules.normalise(requested, field="scope")
    except Invalid as error:
        raise ScopeRefused(error.description) from None
    assert wanted is not None
    over = scope_rules.beyond(wanted, held)
    if over:
        raise ScopeRefused(f"{' '.join(over)} was not granted to this refresh token")
    return wanted
