"""Errors that carry their meaning. One module (``tokenry.http.errors``) maps them to HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


class TokenryError(Exception):
    """Base of every error a use case may raise on purpose."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


class NotFound(TokenryError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Forbidden(TokenryError):
    """The caller is known but not allowed to do this."""


class InsufficientScope(Forbidden):
    """The credential's scopes do not reach this request; ``scope`` names the one missing."""

    def __init__(self, scope: str) -> None:
        super().__init__(f"This credential's scopes do not include {scope}.")
        self.scope = scope


class Conflict(TokenryError):
    """The current state does not allow the change (for example deleting an active token)."""


# Zendesk's error codes for a field's problem: a value that is missing or empty, and any other
BLANK = "BlankValue"
INVALID = "InvalidValue"


class Invalid(TokenryError):
    """The input is not acceptable. ``details`` maps each field to its problems; ``blank``
    names the fields whose problem is that they are missing or empty (Zendesk's
    ``BlankValue``; every other problem is an ``InvalidValue``)."""

    def __init__(
        self, description: str, details: Mapping[str, Sequence[str]] | None = None,
        blank: Sequence[str] = (),
    ) -> None:
        super().__init__(description)
        self.details: dict[str, list[str]] = {k: list(v) for k, v in (details or {}).items()}
        self.blank = frozenset(blank)

    @classmethod
    def field(cls, name: str, problem: str) -> Invalid:
        return cls(f"{name}: {problem}", {name: [problem]})

    @classmethod
    def missing(cls, name: str, problem: str = "is required") -> Invalid:
        """The field is missing or empty."""
        return cls(f"{name}: {problem}", {name: [problem]}, blank=[name])

    def code(self, name: str) -> str:
        return BLANK if name in self.blank else INVALID


class LimitReached(Invalid):
    """A count limit (such as tokens per account) would be exceeded."""


class Unauthenticated(TokenryError):
    """Credentials are missing or wrong. The reason is for logs only, never for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class Throttled(TokenryError):
    """Too many failed attempts from one source."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"Too many failed authentication attempts; retry in {retry_after}s")
        self.retry_after = retry_after


class RateLimited(TokenryError):
    """The account made more API requests this minute than its rate limit allows."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Number of allowed API requests per minute exceeded")
        self.retry_after = retry_after


class BackupFailed(TokenryError):
    """A backup could not be made; nothing was left at its destination."""
