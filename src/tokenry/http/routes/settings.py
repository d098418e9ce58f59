"""``/api/v2/account/settings``: Zendesk's account settings resource (its ``api`` group with
Zendesk's keys and types), and tokenry's own groups beside it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict

from tokenry.domain.settings import flatten, zendesk_grouped
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.operations.account_settings import update_account_settings, visible_settings

router = APIRouter(prefix="/api/v2/account/settings", tags=["account settings"])
WARN = "X-Zendesk-API-Warn"


class SettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    settings: dict[str, Any]


@router.get("", summary="Account settings: API access, governance policy, notifications "
            "(agents see the api and instance groups)")
def show_settings(core: CoreDep, actor: CurrentActor) -> dict[str, Any]:
    settings, groups = visible_settings(core, actor)
    return {"settings": zendesk_grouped(settings, groups)}


@router.put("", summary="Change account settings; unknown keys are ignored and named in the "
            "X-Zendesk-API-Warn header")
def change_settings(core: CoreDep, actor: CurrentActor, body: SettingsBody,
                    response: Response) -> dict[str, Any]:
    updates, removed = flatten(body.settings)
    if removed:
        response.headers[WARN] = "Removed Params: " + ", ".join(removed)[:2000]
    return {"settings": zendesk_grouped(update_account_settings(core, actor, updates))}
