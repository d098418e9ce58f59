"""DeleteToken: remove a deactivated token for good."""

from __future__ import annotations

from tokenry.core import Core
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.tokens import check_deletable
from tokenry.operations._common import audit, find_token, require_token_admin, token_label
from tokenry.operations.context import Actor


def delete_token(core: Core, actor: Actor, token_id: int) -> None:
    with core.db.transaction() as session:
        require_token_admin(session, actor, "delete API tokens")
        token = find_token(session, actor, token_id, lock=True)
        check_deletable(active=token.active)
        audit(session, core, actor, action=Action.DESTROY, source_type=SourceType.API_TOKEN,
              source_id=token.id, source_label=token_label(token),
              changes={"description": [token.description, None]},
              description=f"Deleted API token {token.display}")
        session.delete(token)
