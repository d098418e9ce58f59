"""Who is acting, from where, and the page of results a listing returns.

A listing is asked for in one of three ways: a numbered page (Zendesk's offset pagination,
with a total ``count``), a cursor page (``page[size]`` with ``page[after]`` or
``page[before]``: no count, so a long table is never counted), or every row at once, for the
lists Zendesk's clients read in a single response.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Actor:
    account_id: int
    user_id: int | None  # None: the system itself (bootstrap, scheduler)
    label: str
    via: str = "api"
    ip: str | None = None
    user_agent: str | None = None
    token_id: int | None = None
    # How the actor proved who they are: "token 17", "password", "session", "cli", "link"...
    # Empty means the front end named none; the audit log then records ``via``.
    credential: str = ""
    # Whether that credential proves the person: a password, a session, a token bound to
    # them, or the operator's own command line. An unbound Zendesk-style token does not: it
    # acts as whatever email is typed beside it.
    proves_person: bool = False
    # The credential's scopes (domain.scopes); None: unscoped (sessions, the CLI, a password,
    # an unscoped token). The API's routes check them; the audit log names the credential.
    scopes: tuple[str, ...] | None = None
    oauth_token_id: int | None = None  # the OAuth access token that acts, if one does

    @classmethod
    def system(cls, account_id: int, via: str = "system") -> Actor:
        return cls(account_id=account_id, user_id=None, label="tokenry", via=via)

    @property
    def credential_label(self) -> str:
        return (self.credential or self.via)[:32]


@dataclass(frozen=True, slots=True)
class PageRequest:
    page: int = 1
    per_page: int = 100

    def __post_init__(self) -> None:
        from tokenry.domain.errors import Invalid
        from tokenry.domain.text import MAX_PAGE

        if not 1 <= self.page <= MAX_PAGE:
            raise Invalid.field("page", f"must be between 1 and {MAX_PAGE}")
        if not 1 <= self.per_page <= 100:
            raise Invalid.field("per_page", "must be between 1 and 100")

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page


@dataclass(frozen=True, slots=True)
class CursorRequest:
    """``size`` rows after the row ``after`` names, or before the row ``before`` names; the
    first rows when neither is given. Cursors are the opaque strings a cursor page gave out."""

    size: int = 100
    after: str | None = None
    before: str | None = None

    def __post_init__(self) -> None:
        from tokenry.domain.errors import Invalid

        if not 1 <= self.size <= 100:
            raise Invalid.field("page[size]", "must be between 1 and 100")
        if self.after is not None and self.before is not None:
            raise Invalid.field("page[before]", "cannot be given with page[after]")

    @property
    def backwards(self) -> bool:
        return self.before is not None


@dataclass(frozen=True, slots=True)
class EveryRow:
    """No paging: the whole list in one response. A list longer than ``at_most`` rows answers
    its first numbered page instead (its ``next_page`` leads on), never a response of
    unbounded size."""

    at_most: int | None = None


Listing = PageRequest | CursorRequest | EveryRow


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """A numbered page, or every row (``request`` is then :class:`EveryRow`). ``count`` may
    stop at a bound (operations.paging); ``more`` then says whether rows follow the page."""

    items: list[T]
    count: int
    request: PageRequest | EveryRow
    more: bool | None = None  # None: ``count`` is exact, and says it
    exact: bool = True  # False: there are more than ``count`` rows (the count stopped there)

    @property
    def has_next(self) -> bool:
        if isinstance(self.request, EveryRow):
            return False
        if self.more is not None:
            return self.more
        return self.request.offset + len(self.items) < self.count


@dataclass(frozen=True, slots=True)
class CursorPage(Generic[T]):
    """Rows in the list's order; ``has_more`` says whether more lie further in the direction
    asked for (after, or before when paging backwards)."""

    items: list[T]
    has_more: bool
    after_cursor: str | None
    before_cursor: str | None
    request: CursorRequest

    @property
    def has_next(self) -> bool:
        return self.has_more if not self.request.backwards else bool(self.items)

    @property
    def has_previous(self) -> bool:
        if self.request.backwards:
            return self.has_more
        return self.request.after is not None and bool(self.items)


Listed = Page[T] | CursorPage[T]
