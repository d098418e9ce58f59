"""Seal a secret (an API token, or an integration's client secret) behind a one-time link and
send the link to its holder alone.

Shared by the provisioner's approval (the first delivery) and the re-send (a new secret).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from tokenry.core import Core
from tokenry.domain import delivery
from tokenry.notify import messages
from tokenry.operations._requests import base_url, link_of, notify
from tokenry.storage.models import AccessRequest, ApiToken, Delivery, OAuthClient, User
from tokenry.storage.queries import account_settings


def send_sealed(session: Session, core: Core, request: AccessRequest, secret: str,
                holder: User, *, token: ApiToken | None = None,
                client: OAuthClient | None = None) -> Delivery:
    """``secret`` is ``token``'s or ``client``'s: the delivery names which."""
    now = core.clock()
    link_secret = delivery.new_link_secret()
    key = core.keyring.current
    lifetime = timedelta(hours=account_settings(session, request.account_id).delivery_link_hours)
    sealed = Delivery(account_id=request.account_id, access_request_id=request.id,
                      token_id=token.id if token else None,
                      oauth_client_id=client.id if client else None, recipient_id=holder.id,
                      link_hash=delivery.link_hash(key.secret, link_secret), key_id=key.id,
                      ciphertext=delivery.seal(key.secret, link_secret, secret),
                      created_at=now, expires_at=now + lifetime)
    session.add(sealed)
    session.flush()
    url = f"{base_url(core, request.account_id)}/deliveries/{link_secret}"
    notify(session, core, request,
           messages.delivery_link(request, link_of(core, request), url,
                                  sealed.expires_at, delivery_id=sealed.id),
           [holder])
    return sealed
