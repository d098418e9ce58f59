"""What the jobs share: the scheduler's actor, the people to tell, token and client deletion,
and closing the request a token or client was issued for."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.access_requests import LIVE, RequestState
from tokenry.domain.audit import Action, SourceType
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations._common import audit, token_label
from tokenry.operations._oauth import client_label
from tokenry.operations._requests import audit_request, provisioners, user
from tokenry.operations.context import Actor
from tokenry.operations.deny_request import close
from tokenry.storage.models import AccessRequest, ApiToken, OAuthClient, User


def scheduler(account_id: int) -> Actor:
    return Actor(account_id=account_id, user_id=None, label="tokenry scheduler",
                 via="scheduler", credential="scheduler")


def holder_and_provisioners(session: Session, token: ApiToken) -> list[User]:
    people = provisioners(session, token.account_id)
    holder = user(session, token.user_id)
    if holder is not None and all(p.id != holder.id for p in people):
        people.append(holder)
    return people


def delete_token(session: Session, core: Core, token: ApiToken, why: str) -> None:
    """Delete a deactivated token for good, audited and announced."""
    actor = scheduler(token.account_id)
    audit(session, core, actor, action=Action.DESTROY, source_type=SourceType.API_TOKEN,
          source_id=token.id, source_label=token_label(token),
          changes={"description": [token.description, None]},
          description=f"Deleted API token {token.display} ({why})")
    enqueue(session, core, token.account_id,
            messages.token_event(token, "deleted", "deleted", f"was deleted: {why}", None),
            holder_and_provisioners(session, token))
    session.delete(token)


def client_holder_and_provisioners(session: Session, client: OAuthClient) -> list[User]:
    """The provisioners and the holder of the request the client was issued for."""
    people = provisioners(session, client.account_id)
    request = session.get(AccessRequest, client.access_request_id) \
        if client.access_request_id is not None else None
    holder = user(session, request.holder_id) if request is not None else None
    if holder is not None and all(p.id != holder.id for p in people):
        people.append(holder)
    return people


def delete_client(session: Session, core: Core, client: OAuthClient, why: str) -> None:
    """Delete a switched-off client for good (its tokens and codes go with it), audited and
    announced."""
    actor = scheduler(client.account_id)
    audit(session, core, actor, action=Action.DESTROY, source_type=SourceType.OAUTH_CLIENT,
          source_id=client.id, source_label=client_label(client),
          changes={"name": [client.name, None]},
          description=f"Deleted OAuth client {client_label(client)} ({why})")
    enqueue(session, core, client.account_id,
            messages.client_event(client, "deleted", "deleted", f"was deleted: {why}", None),
            client_holder_and_provisioners(session, client))
    session.delete(client)


def close_live_request(session: Session, core: Core, issued: ApiToken | OAuthClient,
                       state: RequestState) -> None:
    """Move the request of a token or client, if it is still live, to ``expired`` or
    ``revoked``."""
    if issued.access_request_id is None:
        return
    request = session.get(AccessRequest, issued.access_request_id, with_for_update=True)
    if request is None or request.state not in LIVE:
        return
    old, actor = request.state, scheduler(issued.account_id)
    close(core, actor, request, state, None)
    audit_request(session, core, actor, request, Action.EXPIRE,
                  f"Request #{request.id} is {state.value}", state=[old, state.value])
