"""Bounded request parameters, one definition each, so no number or text reaches the
database that it cannot hold (PostgreSQL refuses ids past int64 with an error, and SQLite
would store a NUL byte that PostgreSQL refuses)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field, StrictInt, StrictStr

from tokenry.domain.text import MAX_ID, check_text

RecordId = Annotated[int, Path(ge=1, le=MAX_ID, description="A record's id")]
BodyId = Annotated[StrictInt, Field(ge=1, le=MAX_ID)]


def _text(limit: int) -> object:
    def check(value: str) -> str:
        check_text(value, limit=limit)
        return value
    return AfterValidator(check)


ShortText = Annotated[StrictStr, Field(max_length=255), _text(255)]
LongText = Annotated[StrictStr, Field(max_length=4000), _text(4000)]
# a filter value: letters, digits and _ . - only (no control characters, no injection)
PLAIN = r"^[A-Za-z0-9_.\-]*$"
ShortQuery = Annotated[str | None, Query(max_length=64, pattern=PLAIN)]
