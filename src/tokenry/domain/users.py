"""Who people are and what their role lets them do."""

from __future__ import annotations

import re
from enum import StrEnum

from tokenry.domain.errors import Forbidden, Invalid
from tokenry.domain.text import check_text

EMAIL_PATTERN = re.compile(r"^[^@\s/:]+@[^@\s/:]+\.[^@\s/:]+$")


class Role(StrEnum):
    ADMIN = "admin"
    AGENT = "agent"
    END_USER = "end-user"


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively; ``/`` and ``:`` would break Basic auth."""
    cleaned = email.strip().lower()
    if not EMAIL_PATTERN.match(cleaned) or len(cleaned) > 254 or not cleaned.isprintable():
        raise Invalid.field("email", f"{email!r} is not a valid email address")
    return cleaned


def parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        allowed = ", ".join(r.value for r in Role)
        raise Invalid.field("role", f"{value!r} is not a role; use one of: {allowed}") from None


def validate_name(name: str) -> str:
    cleaned = name.strip()
    if not cleaned:
        raise Invalid.missing("name", "a name of 1 to 200 characters is required")
    if len(cleaned) > 200:
        raise Invalid.field("name", "a name of 1 to 200 characters is required")
    return check_text(cleaned, limit=200, field="name")


def may_sign_in(*, verified: bool, suspended: bool) -> bool:
    """Only verified, non-suspended users can authenticate with any credential."""
    return verified and not suspended


def check_provisioner_role(role: str, provisioner: bool) -> None:
    """Provisioners issue admin tokens, so they must be admins themselves."""
    if provisioner and role != Role.ADMIN:
        raise Invalid.field("provisioner", "only an admin can be a provisioner")


def require_admin(role: str, action: str) -> None:
    if role != Role.ADMIN:
        raise Forbidden(f"Only an admin of this account can {action}.")
