"""What the jobs share: the scheduler's actor, the people to tell, and token deletion."""

from __future__ import annotations

from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain.access_requests import LIVE, RequestState
from tokenry.domain.audit import Action, SourceType
from tokenry.notify import messages
from tokenry.notify.outbox import enqueue
from tokenry.operations._common import audit, token_label
from tokenry.operations._requests import audit_request, provisioners, user
from tokenry.operations.context import Actor
from tokenry.operations.deny_request import close
from tokenry.storage.models import AccessRequest, ApiToken, User


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


def close_live_request(session: Session, core: Core, token: ApiToken,
                       state: RequestState) -> None:
    """Move the token's request, if it is still live, to ``expired`` or ``revoked``."""
    if token.access_request_id is None:
        return
    request = session.get(AccessRequest, token.access_request_id, with_for_update=True)
    if request is None or request.state not in LIVE:
        return
    old, actor = request.state, scheduler(token.account_id)
    close(core, actor, request, state, None)
    audit_request(session, core, actor, request, Action.EXPIRE,
                  f"Request #{request.id} is {state.value}", state=[old, state.value])
