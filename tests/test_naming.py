from __future__ import annotations

from datetime import date

import pytest

from tokenry.domain import naming
from tokenry.domain.errors import Invalid
from tokenry.domain.naming import NameKind


def test_every_standard_form_round_trips() -> None:
    request = naming.parse(naming.request_name("Ria Quest", "https://t.example/requests/12",
                                               date(2027, 3, 1)))
    assert request is not None and request.kind == NameKind.REQUEST
    assert (request.person, request.request_id, request.removal_date) == (
        "Ria Quest", 12, date(2027, 3, 1))
    personal = naming.parse(naming.personal_name("Pat Rov"))
    assert personal is not None and personal.kind == NameKind.PERSONAL
    script = naming.parse(naming.automation_name("Pat Rov", "Ticket sync"))
    assert script is not None and (script.kind, script.use_case) == (NameKind.AUTOMATION,
                                                                     "Ticket sync")
    target = naming.parse(naming.target_name("Jira webhook"))
    assert target is not None and (target.kind, target.target) == (NameKind.TARGET,
                                                                   "Jira webhook")


@pytest.mark.parametrize("name", ["", "Zapier", "admin's own", "A - B - C - D",
                                  "Ria - https://x/requests/1 - 2027-13-40",
                                  "Ria - not a link - 2027-01-01", " Ria - personal"])
def test_names_that_follow_no_standard_parse_to_none(name: str) -> None:
    assert naming.parse(name) is None


def test_parts_that_would_break_the_format_are_refused() -> None:
    with pytest.raises(Invalid):
        naming.target_name("a - b")
    with pytest.raises(Invalid):
        naming.automation_name("Pat", "  ")
