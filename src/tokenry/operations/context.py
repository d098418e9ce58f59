"""Who is acting, from where, and the page of results a listing returns."""

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
class Page(Generic[T]):
    items: list[T]
    count: int
    request: PageRequest

    @property
    def has_next(self) -> bool:
        return self.request.offset + len(self.items) < self.count
