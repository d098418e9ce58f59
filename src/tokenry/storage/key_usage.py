"""How many stored credentials and seals each keyring key still backs, and which keys the
database says its data needs (``server_info``)."""

from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tokenry.domain import sealed
from tokenry.domain.keyring import KEY_ID_LENGTH, key_id_of_fingerprint
from tokenry.domain.settings import SECRET_SETTINGS
from tokenry.storage.models import (
    AccountSetting,
    ApiToken,
    CalendarFeed,
    Delivery,
    Invitation,
    Notification,
    OAuthClient,
    OAuthCode,
    OAuthToken,
    ServerInfo,
    WebSession,
)

FINGERPRINT = "secret_fingerprint"  # the original key's, written at the first start
KEY_IDS = "secret_key_ids"  # every key whose data the database may hold, comma-separated

KEYED = (ApiToken, Delivery, CalendarFeed, WebSession, Invitation, OAuthClient, OAuthCode,
         OAuthToken)


def count_by_key(session: Session) -> Counter[str | None]:
    """Rows per key id (None: made before key ids, by the original key). One GROUP BY per
    keyed table, and a scan of the sealed texts still waiting in the outbox and settings."""
    counts: Counter[str | None] = Counter()
    for model in KEYED:
        if model is Delivery:  # a retrieved delivery's ciphertext is gone; its link is dead
            condition = Delivery.ciphertext.is_not(None)
        elif model is OAuthClient:
            condition = OAuthClient.secret_hash.is_not(None)
        else:
            condition = model.id.is_not(None)
        for key_id, count in session.execute(
                select(model.key_id, func.count()).where(condition).group_by(model.key_id)):
            counts[key_id] += count
    # only the envelope's head: an attachment can be megabytes
    head = len(sealed.ENVELOPE) + KEY_ID_LENGTH + 1
    texts = [*session.scalars(select(func.substr(Notification.sealed, 1, head)).where(
                 Notification.sealed.is_not(None))),
             *session.scalars(select(func.substr(Notification.attachment, 1, head)).where(
                 Notification.attachment.is_not(None))),
             *(value[len(sealed.SETTING_MARK):] for value in session.scalars(
                 select(AccountSetting.value).where(AccountSetting.key.in_(SECRET_SETTINGS)))
               if isinstance(value, str) and value.startswith(sealed.SETTING_MARK))]
    for text in texts:
        counts[sealed.key_id_of(text or "")] += 1
    return counts


def original_key_id(session: Session) -> str | None:
    info = session.get(ServerInfo, FINGERPRINT)
    return key_id_of_fingerprint(info.value) if info else None


def needed_key_ids(session: Session) -> set[str] | None:
    """The keys this database's data may need; None on a database never started."""
    info = session.get(ServerInfo, KEY_IDS)
    if info is not None:
        return {kid for kid in info.value.split(",") if kid}
    original = original_key_id(session)
    return {original} if original else None


def set_needed_key_ids(session: Session, ids: set[str]) -> None:
    value = ",".join(sorted(ids))
    info = session.get(ServerInfo, KEY_IDS, with_for_update=True)
    if info is None:
        session.add(ServerInfo(key=KEY_IDS, value=value))
    else:
        info.value = value
