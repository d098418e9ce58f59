"""CreateExceptionToken: the three kinds of token a provisioner may issue without a request.

Each kind has its own per-account switch and its own naming standard; all are audited and
otherwise ordinary tokens with every rule of the token authority.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from tokenry.core import Core
from tokenry.domain import naming
from tokenry.domain.errors import Forbidden, Invalid
from tokenry.operations._common import acting_user, require_token_admin
from tokenry.operations.context import Actor
from tokenry.operations.create_token import CreatedToken, issue_token
from tokenry.storage.queries import account_settings


class ExceptionKind(StrEnum):
    PERSONAL = "personal"
    AUTOMATION = "automation"
    TARGET = "target"


SWITCHES = {ExceptionKind.PERSONAL: "allow_personal_tokens",
            ExceptionKind.AUTOMATION: "allow_automation_tokens",
            ExceptionKind.TARGET: "allow_target_tokens"}


def create_exception_token(core: Core, actor: Actor, kind: str, *, use_case: str | None = None,
                           target: str | None = None,
                           expires_at: datetime | None = None) -> CreatedToken:
    try:
        exception = ExceptionKind(kind)
    except ValueError:
        raise Invalid.field("exception", f"use one of: {', '.join(ExceptionKind)}") from None
    with core.db.transaction() as session:
        provisioner = acting_user(session, actor)
        if provisioner is None or not provisioner.provisioner:
            raise Forbidden("Only a provisioner can issue a token without an access request.")
        require_token_admin(session, actor, "issue API tokens")
        if not getattr(account_settings(session, actor.account_id), SWITCHES[exception]):
            raise Forbidden(f"{exception.value.capitalize()} tokens are turned off for this "
                            f"account ({SWITCHES[exception]}).")
        if exception == ExceptionKind.TARGET:
            if not target:
                raise Invalid.field("target", "name the target or webhook the token is for")
            name, bound = naming.target_name(target), None
        elif exception == ExceptionKind.PERSONAL:
            name, bound = naming.personal_name(provisioner.name, use_case), provisioner.id
        else:
            if not use_case:
                raise Invalid.field("use_case", "say what the automation or script does")
            name, bound = naming.automation_name(provisioner.name, use_case), provisioner.id
        return issue_token(session, core, actor, description=name, expires_at=expires_at,
                           user_id=bound, kind=exception.value)
