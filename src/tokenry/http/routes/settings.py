from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from tokenry.http.deps import CoreDep, CurrentActor
from tokenry.operations.account_settings import get_account_settings, update_account_settings
from tokenry.present import settings_json

router = APIRouter(prefix="/api/v2/account/settings", tags=["account settings"])


class SettingsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    settings: dict[str, dict[str, Any]]


@router.get("", summary="Account settings (token and password access)")
def show_settings(core: CoreDep, actor: CurrentActor) -> dict[str, Any]:
    return settings_json(get_account_settings(core, actor))


@router.put("", summary="Change account settings")
def change_settings(core: CoreDep, actor: CurrentActor, body: SettingsBody) -> dict[str, Any]:
    updates: dict[str, Any] = {}
    for group, values in body.settings.items():
        updates.update(values if group == "api" else {f"{group}.{k}": v for k, v in values.items()})
    return settings_json(update_account_settings(core, actor, updates))
