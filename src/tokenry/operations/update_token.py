"""UpdateToken: edit the description, deactivate or reactivate. Nothing else may change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tokenry.core import Core
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Invalid
from tokenry.domain.timefmt import iso
from tokenry.domain.tokens import (
    EDITABLE_FIELDS,
    FIXED_FIELDS,
    READ_ONLY_FIELDS,
    refuse_value_change,
    validate_description,
)
from tokenry.operations._common import (
    audit,
    find_token,
    require_token_admin,
    set_token_active,
    token_label,
)
from tokenry.operations.context import Actor
from tokenry.storage.models import ApiToken


def update_token(core: Core, actor: Actor, token_id: int, changes: Mapping[str, Any]) -> ApiToken:
    """Apply ``changes`` (``description`` and/or ``active``) in one audited transaction.

    Read-only fields a client echoes back unchanged are ignored; anything that would
    change the token value, its expiry or its user is refused.
    """
    with core.db.transaction() as session:
        require_token_admin(session, actor, "edit API tokens")
        token = find_token(session, actor, token_id, lock=True)
        _check_fields(token, changes)
        now = core.clock()
        if "description" in changes:
            new = validate_description(changes["description"])
            if new != token.description:
                audit(session, core, actor, action=Action.UPDATE,
                      source_type=SourceType.API_TOKEN, source_id=token.id,
                      source_label=token_label(token),
                      changes={"description": [token.description, new]},
                      description=f"Description changed from {token.description!r} to {new!r}")
                token.description = new
                token.updated_at = now
        if "active" in changes:
            active = changes["active"]
            if not isinstance(active, bool):
                raise Invalid.field("active", "must be true or false")
            set_token_active(session, core, actor, token, active)
    return token


def _check_fields(token: ApiToken, changes: Mapping[str, Any]) -> None:
    unknown = set(changes) - EDITABLE_FIELDS - READ_ONLY_FIELDS - FIXED_FIELDS
    if unknown:
        raise Invalid(
            f"Unknown attribute(s): {', '.join(sorted(unknown))}",
            {name: ["is not an attribute of an API token"] for name in sorted(unknown)},
        )
    if "token" in changes and changes["token"] != token.display:
        raise refuse_value_change()
    current = {"expires_at": iso(token.expires_at), "user_id": token.user_id,
               "scopes": token.scopes,
               "kind": token.kind, "access_request_id": token.access_request_id}
    for name, value in current.items():
        if name in changes and changes[name] != value:
            raise Invalid.field(name, "cannot be changed after creation; create a new token")
