"""``/admin/compliance``: the compliance report as a page, and the same rows as CSV.

The operation decides who may read it (admins and provisioners); the CSV is the one
``tokenry report compliance --format csv`` prints.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tokenry.operations.compliance_report import Category, Finding, compliance_report
from tokenry.present_csv import compliance_csv
from tokenry.web.render import NO_STORE, core_of, render
from tokenry.web.session import SignedInUser, WebRoute, web_actor

router = APIRouter(route_class=WebRoute, include_in_schema=False)
HEADINGS = {
    Category.UNAPPROVED: (
        "Tokens and clients without approval",
        "Active tokens issued neither for an access request nor as an exception, and active "
        "OAuth clients made for no live integration request."),
    Category.NONSTANDARD_NAME: (
        "Names outside the naming standard",
        "An auditor cannot tell from the name whom or what a token or client is for."),
    Category.UNUSED: ("Unused tokens and clients",
                      "Active tokens, and active clients none of whose tokens was used, idle "
                      "for longer than the limit."),
    Category.SUSPENDED_HOLDER: ("Held by suspended users",
                                "Tokens bound to, and clients held by or acting as, a user who "
                                "can no longer sign in."),
    Category.UNBOUND: ("Tokens bound to no user",
                       "They act as whatever email is typed with them."),
    Category.STALE_REQUEST: ("Requests waiting too long",
                             "Access requests pending past the account's limit."),
}


@dataclass(frozen=True, slots=True)
class Group:
    category: Category
    heading: str
    explanation: str
    findings: list[Finding]

    @property
    def slug(self) -> str:
        return self.category.value.replace("_", "-")


@router.get("/admin/compliance", response_class=HTMLResponse)
def index(request: Request, user: SignedInUser) -> HTMLResponse:
    report = compliance_report(core_of(request), web_actor(request, user))
    groups = [Group(category, *HEADINGS[category],
                    [f for f in report.findings if f.category == category])
              for category in Category]
    return render(request, "compliance.html", {
        "report": report, "groups": [group for group in groups if group.findings],
    }, user=user)


@router.get("/admin/compliance.csv")
def download(request: Request, user: SignedInUser) -> Response:
    report = compliance_report(core_of(request), web_actor(request, user))
    filename = f"tokenry-compliance-{report.generated_at:%Y-%m-%d}.csv"
    return Response(compliance_csv(report), media_type="text/csv; charset=utf-8", headers={
        **NO_STORE, "Content-Disposition": f'attachment; filename="{filename}"'})
