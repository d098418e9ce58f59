"""``/api/v2/account/settings``: Zendesk's account settings resource (its ``api`` group with
Zendesk's keys and types), and tokenry's own groups beside it."""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from tokenry import schemas
from tokenry.domain.settings import flatten, zendesk_grouped
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.http.documented import answers, header
from tokenry.http.scopes import scoped
from tokenry.operations.account_settings import update_account_settings, visible_settings

router = APIRouter(prefix="/api/v2/account/settings", tags=["account settings"],
                   dependencies=[scoped("settings")])
WARN = "X-Zendesk-API-Warn"


class SettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    settings: dict[str, Any]


def warning(removed: list[str]) -> str:
    """The names of ignored parameters as a header value: printable ASCII only (a name is the
    caller's own text, so it is escaped as JSON escapes it), and bounded."""
    names = ", ".join(json.dumps(name, ensure_ascii=True)[1:-1] for name in removed)
    return "Removed Params: " + (names if len(names) <= 2000 else names[:2000] + "...")


@router.get("", summary="Account settings: API access, governance policy, notifications "
            "(agents see the api and instance groups)", operation_id="showAccountSettings",
            responses=answers(schemas.AccountSettingsBody, 403))
def show_settings(core: CoreDep, actor: CurrentActor) -> dict[str, Any]:
    settings, groups = visible_settings(core, actor)
    return {"settings": zendesk_grouped(settings, groups)}


@router.put("", summary="Change account settings; unknown keys are ignored and named in the "
            "X-Zendesk-API-Warn header", operation_id="updateAccountSettings",
            responses=answers(schemas.AccountSettingsBody, 403, 422, headers={
                WARN: header("Removed Params: the ignored keys and groups")}))
def change_settings(core: CoreDep, actor: CurrentActor, body: SettingsBody,
                    response: Response) -> dict[str, Any]:
    updates, removed = flatten(body.settings)
    if removed:
        response.headers[WARN] = warning(removed)
    return {"settings": zendesk_grouped(update_account_settings(core, actor, updates))}
