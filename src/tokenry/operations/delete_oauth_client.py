"""DeleteOAuthClient: remove a client; its codes and tokens go with it (they stop working at
once)."""

from __future__ import annotations

from tokenry.core import Core
from tokenry.domain.audit import Action, SourceType
from tokenry.operations._common import audit
from tokenry.operations._oauth import client_label, find_client, require_client_admin
from tokenry.operations.context import Actor


def delete_oauth_client(core: Core, actor: Actor, client_id: int) -> None:
    with core.db.transaction() as session:
        require_client_admin(session, actor, "delete OAuth clients")
        client = find_client(session, actor, client_id, lock=True)
        audit(session, core, actor, action=Action.DESTROY, source_type=SourceType.OAUTH_CLIENT,
              source_id=client.id, source_label=client_label(client),
              changes={"name": [client.name, None]},
              description=f"Deleted OAuth client {client_label(client)} and its tokens")
        session.delete(client)
