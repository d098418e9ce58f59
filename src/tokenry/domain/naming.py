"""Token naming standards: the one module that formats and parses every standard name.

* a token issued for an access request: ``{person} - {request link} - {removal date}``
* a provisioner's personal token:       ``{person} - personal`` or ``{person} - {use case}``
* a token for an automation or script:  ``{person} - {use case}``
* a token for a target or webhook:      ``Target - {name of target}``
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from tokenry.domain.errors import Invalid

SEPARATOR = " - "
TARGET = "Target"
PERSONAL = "personal"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_LINK = re.compile(r"^https?://\S+/requests/(\d+)$")


class NameKind(StrEnum):
    REQUEST = "request"
    PERSONAL = "personal"
    AUTOMATION = "automation"
    TARGET = "target"


@dataclass(frozen=True, slots=True)
class StandardName:
    kind: NameKind
    person: str | None = None
    request_link: str | None = None
    request_id: int | None = None
    removal_date: date | None = None
    use_case: str | None = None
    target: str | None = None


def _part(value: str, field: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise Invalid.missing(field, "must not be empty")
    if SEPARATOR in cleaned:
        raise Invalid.field(field, f"must not contain {SEPARATOR.strip()!r} between spaces")
    return cleaned


def _person(name: str) -> str:
    """People's names come from their records, so tidy rather than refuse: 'Jean - Luc'
    becomes 'Jean-Luc' and the name stays parseable."""
    return _part(" ".join(name.split()).replace(SEPARATOR, "-"), "name")


def request_name(person: str, request_link: str, removal_date: date) -> str:
    return SEPARATOR.join([_person(person), _part(request_link, "link"),
                           removal_date.isoformat()])


def personal_name(person: str, use_case: str | None = None) -> str:
    return SEPARATOR.join([_person(person), _part(use_case or PERSONAL, "use_case")])


def automation_name(person: str, use_case: str) -> str:
    return SEPARATOR.join([_person(person), _part(use_case, "use_case")])


def target_name(target: str) -> str:
    return SEPARATOR.join([TARGET, _part(target, "target")])


def parse(name: str) -> StandardName | None:
    """The standard a name follows, or ``None`` when it follows none.

    ``{person} - {use case}`` is both the personal and the automation form; it parses as
    personal when the use case is ``personal`` and as automation otherwise.
    """
    parts = name.split(SEPARATOR)
    if any(not p.strip() or p != p.strip() for p in parts):
        return None
    if len(parts) == 3 and _DATE.match(parts[2]) and (link := _LINK.match(parts[1])):
        try:
            removal = date.fromisoformat(parts[2])
        except ValueError:
            return None
        return StandardName(NameKind.REQUEST, person=parts[0], request_link=parts[1],
                            request_id=int(link.group(1)), removal_date=removal)
    if len(parts) != 2:
        return None
    if parts[0] == TARGET:
        return StandardName(NameKind.TARGET, target=parts[1])
    if parts[1] == PERSONAL:
        return StandardName(NameKind.PERSONAL, person=parts[0], use_case=PERSONAL)
    return StandardName(NameKind.AUTOMATION, person=parts[0], use_case=parts[1])
