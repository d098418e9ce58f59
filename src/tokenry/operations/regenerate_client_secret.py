"""RegenerateClientSecret: a confidential client gets a new secret, shown once; the old one
stops working at once (only the new hash is kept)."""

from __future__ import annotations

from tokenry.core import Core
from tokenry.domain import oauth
from tokenry.domain.audit import Action, SourceType
from tokenry.domain.errors import Conflict
from tokenry.operations._common import audit
from tokenry.operations._oauth import client_label, find_client, require_client_admin
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import CreatedClient, set_new_secret


def regenerate_client_secret(core: Core, actor: Actor, client_id: int) -> CreatedClient:
    with core.db.transaction() as session:
        require_client_admin(session, actor, "regenerate OAuth client secrets")
        client = find_client(session, actor, client_id, lock=True)
        if client.kind != oauth.CONFIDENTIAL:
            raise Conflict("A public client has no secret to regenerate.")
        old_display = client.secret_display
        secret = set_new_secret(core, client)
        client.updated_at = core.clock()
        audit(session, core, actor, action=Action.REGENERATE_SECRET,
              source_type=SourceType.OAUTH_CLIENT, source_id=client.id,
              source_label=client_label(client),
              changes={"secret": [old_display, client.secret_display]},
              description=f"Regenerated the secret of OAuth client {client_label(client)}")
        return CreatedClient(client=client, secret=secret)
