"""``/account/password``: a signed-in person changes their own password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from tokenry.domain.errors import Invalid
from tokenry.operations.users import change_own_password
from tokenry.web.render import core_of, redirect, render
from tokenry.web.session import PostedForm, SignedInUser, WebRoute, cookie_name, field, web_actor

router = APIRouter(prefix="/account", route_class=WebRoute, include_in_schema=False)


@router.get("/password", response_class=HTMLResponse)
def password_page(request: Request, user: SignedInUser) -> HTMLResponse:
    return render(request, "password.html", {"errors": {}}, user=user)


@router.post("/password", response_class=HTMLResponse)
def change_password(request: Request, user: SignedInUser, form: PostedForm) -> Response:
    new = field(form, "new_password")
    errors: dict[str, list[str]] = {}
    if new != field(form, "confirm_password"):
        errors["confirm_password"] = ["is not the same as the new password"]
    else:
        try:
            change_own_password(core_of(request), web_actor(request, user),
                                field(form, "current_password"), new)
        except Invalid as error:
            errors = error.details or {"new_password": [error.description]}
    if errors:
        errors = {("new_password" if key == "password" else key): texts
                  for key, texts in errors.items()}
        return render(request, "password.html", {"errors": errors}, user=user,
                      status_code=422)
    response = redirect("/login", "Your password was changed. Sign in with the new one.")
    response.delete_cookie(cookie_name(request), path="/")
    return response
