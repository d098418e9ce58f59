"""``/admin/exceptions``: a provisioner's personal, automation and target tokens.

The page and the form call the same operations as ``POST /api/v2/api_tokens/exceptions``;
the operation decides who may (provisioners) and which kinds the account allows. The full
token is shown once, in the response to Save, exactly as on the API tokens page.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from tokenry.domain.errors import Invalid
from tokenry.operations.context import PageRequest
from tokenry.operations.create_token import CreatedToken
from tokenry.operations.exception_tokens import (
    SWITCHES,
    ExceptionKind,
    create_exception_token,
    exception_overview,
)
from tokenry.operations.users import list_users
from tokenry.operations.web_sessions import WebUser
from tokenry.web.forms import expiry
from tokenry.web.render import core_of, render
from tokenry.web.session import PostedForm, SignedInUser, WebRoute, field, web_actor

router = APIRouter(prefix="/admin/exceptions", route_class=WebRoute, include_in_schema=False)
FIELDS = ("use_case", "target", "expires_at", "user_email")


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    kind: str
    hint: str
    required: bool = False


@dataclass(frozen=True, slots=True)
class KindForm:
    """How the page presents one kind of exception token: what it is for, its name, its fields."""

    kind: ExceptionKind
    title: str
    purpose: str
    naming: str
    fields: tuple[Field, ...]

    @property
    def switch(self) -> str:
        return SWITCHES[self.kind]


_EXPIRES = Field("expires_at", "Expires on", "date",
                 "optional; the token stops working at the end of this day (UTC)")
KINDS = (
    KindForm(ExceptionKind.PERSONAL, "Personal token",
             "For your own use: scripts you run by hand, or trying the API.",
             "{your name} - personal, or {your name} - {use case}",
             (Field("use_case", "Use case", "text", "optional; “personal” when left empty"),
              _EXPIRES,
              Field("user_email", "Bound user", "email",
                    "optional; you when left empty (email)"))),
    KindForm(ExceptionKind.AUTOMATION, "Automation token",
             "For an automation or a script that runs unattended.",
             "{person} - {use case}",
             (Field("use_case", "Use case", "text", "what the automation or script does",
                    required=True),
              _EXPIRES,
              Field("user_email", "Bound user", "email",
                    "optional; you when left empty (email)"))),
    KindForm(ExceptionKind.TARGET, "Target token",
             "For a target or webhook that calls the API back. It acts as a service user "
             "and nobody else.",
             "Target - {name of target}",
             (Field("target", "Target", "text", "the name of the target or webhook",
                    required=True),
              Field("user_email", "Service user", "email",
                    "the user the token acts as (email)", required=True),
              _EXPIRES)),
)


def _page(request: Request, user: WebUser, *, created: CreatedToken | None = None,
          posted: str | None = None, errors: dict[str, list[str]] | None = None,
          values: dict[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    core, actor = core_of(request), web_actor(request, user)
    overview = exception_overview(core, actor)  # refuses anyone but a provisioner
    people = list_users(core, actor, PageRequest(1, 100)).items
    return render(request, "exceptions.html", {
        "kinds": KINDS, "overview": overview, "people": people, "created": created,
        "secret_email": overview.holders.get(created.token.user_id or 0) if created else None,
        "posted": posted, "errors": errors or {}, "values": values or {},
    }, user=user, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def index(request: Request, user: SignedInUser) -> HTMLResponse:
    return _page(request, user)


@router.post("", response_class=HTMLResponse)
def create(request: Request, user: SignedInUser, form: PostedForm) -> HTMLResponse:
    kind = field(form, "kind")
    values = {name: field(form, name) for name in FIELDS}
    try:
        created = create_exception_token(
            core_of(request), web_actor(request, user), kind,
            use_case=values["use_case"] or None, target=values["target"] or None,
            expires_at=expiry(values["expires_at"]), user_email=values["user_email"] or None)
    except Invalid as error:
        errors = error.details or {"form": [error.description]}
        return _page(request, user, posted=kind, errors=errors, values=values,
                     status_code=422)
    return _page(request, user, created=created, status_code=201)
