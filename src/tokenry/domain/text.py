"""What free text and numbers tokenry accepts, for every front end.

Text may not carry NUL or other control characters (newlines and tabs are fine in long
text): PostgreSQL refuses NUL outright and SQLite would store it, so the two databases
would disagree. Long text is bounded so that a request cannot fill the database.
"""

from __future__ import annotations

import re

from tokenry.domain.errors import Invalid

MAX_ID = 2**63 - 1  # the largest id either database holds
MAX_PAGE = 10**9  # keeps (page - 1) * per_page far inside int64
LONG_TEXT = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def check_text(value: str, *, limit: int, field: str | None = None) -> str:
    """``value`` unchanged, or :class:`Invalid` naming the field when it is too long or holds
    control characters. Used by HTTP types (which name the field themselves) and operations."""
    problem = None
    if len(value) > limit:
        problem = f"must be at most {limit} characters"
    elif _CONTROL.search(value):
        problem = "must not contain control characters (such as NUL)"
    if problem is None:
        return value
    if field is None:
        raise ValueError(problem)
    raise Invalid.field(field, problem)
