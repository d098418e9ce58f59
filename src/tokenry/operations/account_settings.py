"""GetAccountSettings and UpdateAccountSettings.

Turning token access off deactivates every active token in the same transaction (each one
audited); turning it back on reactivates none of them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import sealed
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Invalid
from tokenry.domain.settings import (
    AGENT_GROUPS,
    GROUPS,
    SECRET_SETTINGS,
    AccountSettings,
    audit_value,
)
from tokenry.domain.users import Role
from tokenry.notify.destinations import DestinationRefused, check_destination
from tokenry.operations._common import (
    acting_user,
    audit,
    require_account_admin,
    set_token_active,
)
from tokenry.operations.context import Actor
from tokenry.storage.models import AccountSetting, ApiToken, User
from tokenry.storage.queries import account_settings


def get_account_settings(core: Core, actor: Actor) -> AccountSettings:
    with core.db.read() as session:
        require_account_admin(session, actor, "view account settings")
        return account_settings(session, actor.account_id)


def visible_settings(core: Core, actor: Actor) -> tuple[AccountSettings, tuple[str, ...]]:
    """The settings and the groups this actor may read: admins every group, agents the
    ``api`` and ``instance`` groups (as agents may read Zendesk's account settings)."""
    with core.db.read() as session:
        user = acting_user(session, actor)
        if user is not None and user.role == Role.AGENT:
            return account_settings(session, actor.account_id), AGENT_GROUPS
        require_account_admin(session, actor, "view account settings")
        return account_settings(session, actor.account_id), tuple(GROUPS)


def update_account_settings(core: Core, actor: Actor,
                            updates: Mapping[str, Any]) -> AccountSettings:
    with core.db.transaction() as session:
        require_account_admin(session, actor, "change account settings")
        # Lock the settings rows so two admins flipping switches do not interleave.
        session.execute(select(AccountSetting).where(
            AccountSetting.account_id == actor.account_id).with_for_update()).all()
        before = account_settings(session, actor.account_id)
        after = before.changed(updates)
        if after.integration_bot != before.integration_bot and after.integration_bot:
            after = after.changed({"integration_bot": _integration_bot(
                session, actor.account_id, after.integration_bot)})
        _check_destinations(core, after, updates)
        old_values = before.as_dict(reveal_secrets=True)
        for key, value in after.as_dict(reveal_secrets=True).items():
            old = old_values[key]
            if value == old:
                continue
            stored = sealed.seal_setting(core.keyring, value) if key in SECRET_SETTINGS \
                else value
            session.merge(AccountSetting(account_id=actor.account_id, key=key, value=stored))
            shown_old, shown_new = audit_value(key, old), audit_value(key, value)
            audit(session, core, actor, action=Action.UPDATE,
                  source_type=SourceType.ACCOUNT_SETTING, source_id=None, source_label=key,
                  changes={key: [shown_old, shown_new]},
                  description=f"{key} changed from {shown_old} to {shown_new}")
        if before.token_access and not after.token_access:
            _deactivate_all_tokens(session, core, actor)
    return after


def _integration_bot(session: Session, account_id: int, email: str) -> str:
    """The Integration bot must be an admin of the account who can sign in (a service user
    that clients act as); the setting keeps its email as the user has it."""
    bot = session.scalar(select(User).where(User.account_id == account_id,
                                            func.lower(User.email) == email.strip().lower()))
    if bot is None:
        raise Invalid.field("integration_bot", f"there is no user {email!r} in this account")
    if bot.role != Role.ADMIN or bot.suspended:
        raise Invalid.field("integration_bot", "must be an admin who is not suspended")
    return bot.email


def _check_destinations(core: Core, after: AccountSettings, updates: Mapping[str, Any]) -> None:
    """A webhook aimed inside the network is refused when it is saved, not only when used."""
    for key in ("webhook_url", "slack_webhook_url"):
        url = getattr(after, key)
        if key not in updates or not url:
            continue
        try:
            check_destination(url, allow_private=core.settings.webhook_allow_private)
        except DestinationRefused as refused:
            raise Invalid.field(key, str(refused)) from None


def _deactivate_all_tokens(session: Session, core: Core, actor: Actor) -> None:
    tokens = session.scalars(
        select(ApiToken).where(ApiToken.account_id == actor.account_id,
                               ApiToken.active.is_(True)).with_for_update()
    )
    for token in tokens:
        set_token_active(session, core, actor, token, False, "token access was turned off")
