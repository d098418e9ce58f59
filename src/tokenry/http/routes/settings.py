from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from tokenry.domain.settings import flatten
from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.operations.account_settings import get_account_settings, update_account_settings
from tokenry.present import settings_json

router = APIRouter(prefix="/api/v2/account/settings", tags=["account settings"])


class SettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    settings: dict[str, dict[str, Any]]


@router.get("", summary="Account settings: API access, governance policy, notifications")
def show_settings(core: CoreDep, actor: CurrentActor) -> dict[str, Any]:
    return settings_json(get_account_settings(core, actor))


@router.put("", summary="Change account settings")
def change_settings(core: CoreDep, actor: CurrentActor, body: SettingsBody) -> dict[str, Any]:
    return settings_json(update_account_settings(core, actor, flatten(body.settings)))
