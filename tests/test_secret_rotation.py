"""Rotating the server secret: a keyring of keys with ids, one current. New hashes and seals
name the new key; everything made with an older key keeps working; a key id the keyring does
not hold is refused cleanly; restore needs every key the backup's data was made with."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, me_status
from tokenry.config import Settings
from tokenry.core import Core, build_core
from tokenry.domain import delivery, sealed
from tokenry.domain.errors import Conflict, NotFound
from tokenry.domain.keyring import Key, Keyring
from tokenry.operations.backup_database import backup_database
from tokenry.operations.bootstrap import SecretMismatch, check_server_secret
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.restore_database import restore_database
from tokenry.operations.retire_secret import retire_secret
from tokenry.operations.rotate_secret import rotate_secret
from tokenry.operations.secret_keys import list_secret_keys
from tokenry.server_secret import SecretKeyError, parse_keyring_file, write_keyring_file
from tokenry.storage.models import ApiToken


@pytest.fixture
def settings_overrides() -> dict[str, Any]:
    return {"secret_key": None}  # the keyring file beside the test, as `tokenry init` makes


def key_of(core: Core, token_id: int) -> str | None:
    with core.db.read() as session:
        return session.scalar(select(ApiToken.key_id).where(ApiToken.id == token_id))


def test_a_rotation_keeps_old_tokens_and_new_ones_name_the_new_key(
        core: Core, admin_actor: Actor, client: Any, settings: Settings) -> None:
    original = core.keyring.current.id
    old = create_token(core, admin_actor, description="before")
    rotated = rotate_secret(core)
    new = create_token(core, admin_actor, description="after")
    assert rotated.previous_id == original and rotated.key_id != original
    assert key_of(core, old.token.id) == original and key_of(core, new.token.id) == rotated.key_id
    assert me_status(client, ADMIN_EMAIL, old.secret) == 200
    assert me_status(client, ADMIN_EMAIL, new.secret) == 200
    path = settings.resolved_secret_key_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert parse_keyring_file(path).ids == (rotated.key_id, original)
    usage = {k.key_id: (k.current, k.backs) for k in list_secret_keys(core)}
    assert usage == {rotated.key_id: (True, 1), original: (False, 1)}


def test_rows_from_before_key_ids_belong_to_the_original_key(
        core: Core, admin_actor: Actor, client: Any) -> None:
    original = core.keyring.current.id
    old = create_token(core, admin_actor, description="legacy row")
    with core.db.transaction() as session:  # as migration 0010 leaves an existing row
        session.execute(update(ApiToken).values(key_id=None))
    rotated = rotate_secret(core)
    assert me_status(client, ADMIN_EMAIL, old.secret) == 200
    usage = {k.key_id: k.backs for k in list_secret_keys(core)}
    assert usage[original] == 1 and usage[rotated.key_id] == 0
    with pytest.raises(Conflict, match="still backs 1"):
        retire_secret(core, original)


def test_retire_refuses_the_current_key_and_an_unknown_one_and_drops_an_unused_one(
        core: Core, admin_actor: Actor, settings: Settings) -> None:
    first = rotate_secret(core)
    second = rotate_secret(core)
    with pytest.raises(Conflict, match="current key"):
        retire_secret(core, second.key_id)
    with pytest.raises(NotFound):
        retire_secret(core, "0123456789abcdef")
    retire_secret(core, first.key_id)  # nothing was made with it
    assert first.key_id not in core.keyring.ids
    assert first.key_id not in parse_keyring_file(settings.resolved_secret_key_file()).ids
    check_server_secret(core)  # the database no longer asks for it


def test_old_seals_and_deliveries_open_after_a_rotation_and_new_ones_name_the_new_key(
        core: Core) -> None:
    before = core.keyring
    outbox = sealed.seal(before, sealed.OUTBOX, "one-time link")
    legacy = sealed.seal(before.current.secret, sealed.OUTBOX, "sealed before key ids")
    setting = sealed.seal_setting(before, "xoxb-bot-token")
    link = delivery.new_link_secret()
    ciphertext = delivery.seal(before.current.secret, link, "tkry_secret")
    rotated = rotate_secret(core)
    after = core.keyring
    assert sealed.unseal(after, sealed.OUTBOX, outbox) == "one-time link"
    assert sealed.unseal(after, sealed.OUTBOX, legacy) == "sealed before key ids"
    assert sealed.open_setting(after, setting) == "xoxb-bot-token"
    assert delivery.unseal_made_by(after, before.current.id, link, ciphertext) == "tkry_secret"
    assert delivery.unseal_made_by(after, None, link, ciphertext) == "tkry_secret"
    assert delivery.link_hash(before.current.secret, link) in delivery.link_hashes(after, link)
    fresh = sealed.seal(after, sealed.OUTBOX, "new")
    assert sealed.key_id_of(fresh) == rotated.key_id
    assert sealed.key_id_of(outbox) == before.current.id


def test_a_key_id_the_keyring_does_not_hold_is_refused_cleanly(
        core: Core, admin_actor: Actor, client: Any) -> None:
    stranger = Keyring((Key.of(b"s" * 40),))
    text = sealed.seal(stranger, sealed.OUTBOX, "not for us")
    assert sealed.unseal(core.keyring, sealed.OUTBOX, text) is None
    link = delivery.new_link_secret()
    ciphertext = delivery.seal(stranger.current.secret, link, "tkry_x")
    assert delivery.unseal_made_by(core.keyring, stranger.current.id, link, ciphertext) is None
    made = create_token(core, admin_actor, description="made elsewhere")
    with core.db.transaction() as session:  # its hash under a key this server lacks
        session.execute(update(ApiToken).where(ApiToken.id == made.token.id).values(
            secret_hash=stranger.current.fingerprint[:64], key_id=stranger.current.id))
    assert me_status(client, ADMIN_EMAIL, made.secret) == 401


def test_rotation_with_the_secret_in_the_environment_is_explained(
        settings: Settings, clock: Any) -> None:
    environment = settings.model_copy(update={"secret_key": Settings(
        secret_key="e" * 40).secret_key})
    core = build_core(environment, clock=clock)
    try:
        with pytest.raises(Conflict, match="TOKENRY_SECRET_KEYS=NEW,OLD"):
            rotate_secret(core)
    finally:
        core.close()
    assert not environment.resolved_secret_key_file().exists()


def test_a_list_of_secrets_in_the_environment_verifies_with_every_key(
        core: Core, admin_actor: Actor, settings: Settings, clock: Any) -> None:
    from fastapi.testclient import TestClient

    from tokenry.http.app import create_app

    old = create_token(core, admin_actor, description="made with the file's key")
    original = settings.resolved_secret_key_file().read_text().strip()
    listed = settings.model_copy(update={"secret_keys": Settings(
        secret_keys=f"{'n' * 40},{original}").secret_keys})
    node = build_core(listed, clock=clock)
    try:
        check_server_secret(node)
        assert node.keyring.current.id == Key.of(b"n" * 40).id
        with TestClient(create_app(listed, node)) as client:
            assert me_status(client, ADMIN_EMAIL, old.secret) == 200
        assert key_of(node, create_token(node, admin_actor).token.id) == node.keyring.current.id
    finally:
        node.close()


def test_a_keyring_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "keyring"
    write_keyring_file(path, Keyring((Key.of(b"a" * 40), Key.of(b"b" * 40))))
    assert parse_keyring_file(path).ids == (Key.of(b"a" * 40).id, Key.of(b"b" * 40).id)
    assert "a" * 40 not in repr(parse_keyring_file(path))
    path.chmod(0o640)
    with pytest.raises(SecretKeyError, match="chmod 600"):
        parse_keyring_file(path)


def test_a_database_whose_keys_the_keyring_lacks_is_refused_at_start(
        core: Core, settings: Settings, clock: Any) -> None:
    rotate_secret(core)
    original = parse_keyring_file(settings.resolved_secret_key_file()).keys[1]
    only_original = settings.model_copy(update={"secret_key": Settings(
        secret_key=original.secret.decode()).secret_key})
    node = build_core(only_original, clock=clock)
    try:
        with pytest.raises(SecretMismatch, match=core.keyring.current.id):
            check_server_secret(node)
    finally:
        node.close()


def test_restore_is_refused_when_the_keyring_lacks_a_key_the_backup_needs(
        core: Core, admin_actor: Actor, settings: Settings, clock: Any,
        tmp_path: Path) -> None:
    original = core.keyring.current
    create_token(core, admin_actor, description="old key")
    rotated = rotate_secret(core)
    create_token(core, admin_actor, description="new key")
    backup = tmp_path / "backup.db"
    backup_database(core, backup)
    only_original = settings.model_copy(update={"secret_key": Settings(
        secret_key=original.secret.decode()).secret_key})
    node = build_core(only_original, clock=clock)
    try:
        with pytest.raises(SecretMismatch, match=rotated.key_id):
            restore_database(node, backup)
    finally:
        node.close()
    if settings.is_sqlite:  # the full keyring restores it
        restore_database(core, backup)
        assert json.dumps(sorted(k.key_id for k in list_secret_keys(core))) == json.dumps(
            sorted([original.id, rotated.key_id]))


def test_sessions_and_calendar_feeds_made_before_a_rotation_keep_working(
        core: Core, admin_actor: Actor) -> None:
    from tests.governance_people import actor_of, add_user
    from tokenry.operations.calendar_feeds import calendar_feed, rotate_calendar_feed
    from tokenry.operations.web_sessions import resume_session, sign_in
    from tokenry.storage.models import CalendarFeed, WebSession

    signed = sign_in(core, "default", ADMIN_EMAIL, ADMIN_PASSWORD, ip="127.0.0.1",
                     user_agent="test")
    provisioner = actor_of(add_user(core, admin_actor, "prov@example.com", provisioner=True))
    feed = rotate_calendar_feed(core, provisioner).rpartition("/")[2].removesuffix(".ics")
    original = core.keyring.current.id
    rotate_secret(core)
    assert resume_session(core, "default", signed.secret).email == ADMIN_EMAIL
    assert calendar_feed(core, feed).startswith(b"BEGIN:VCALENDAR")
    with core.db.read() as session:
        assert session.scalar(select(WebSession.key_id)) == original
        assert session.scalar(select(CalendarFeed.key_id)) == original


def test_a_staged_key_verifies_but_makes_nothing_until_it_is_activated(
        core: Core, admin_actor: Actor, client: Any, settings: Settings) -> None:
    from tokenry.operations.rotate_secret import activate_secret

    original = core.keyring.current.id
    staged = rotate_secret(core, staged=True)
    assert core.keyring.current.id == original and staged.key_id in core.keyring.ids
    during = create_token(core, admin_actor, description="while staged")
    assert key_of(core, during.token.id) == original
    # another node, already activated, made a token with the staged key: it verifies here
    ahead = build_core(settings, clock=core.clock)
    try:
        activate_secret(ahead, staged.key_id)
        made_ahead = create_token(ahead, admin_actor, description="on the node ahead")
    finally:
        ahead.close()
    assert key_of(core, made_ahead.token.id) == staged.key_id
    assert me_status(client, ADMIN_EMAIL, made_ahead.secret) == 200
    assert me_status(client, ADMIN_EMAIL, during.secret) == 200
    with pytest.raises(NotFound):
        activate_secret(core, "0123456789abcdef")


def test_sealed_outbox_rows_count_for_the_key_that_sealed_them(
        core: Core, admin_actor: Actor) -> None:
    from tokenry.storage.models import Notification

    def queue(text: str, n: int) -> Notification:
        now = core.clock()
        return Notification(account_id=admin_actor.account_id, event="test", channel="email",
                            destination="x@example.com", subject="s", body="b",
                            idempotency_key=f"rotation-{n}", next_attempt_at=now,
                            created_at=now, sealed=text,
                            attachment=sealed.seal_bytes(core.keyring, sealed.ATTACHMENT,
                                                         b"x" * 1000))

    original = core.keyring.current.id
    with core.db.transaction() as session:
        session.add(queue(sealed.seal(core.keyring, sealed.OUTBOX, "link"), 1))
    rotated = rotate_secret(core)
    with core.db.transaction() as session:
        session.add(queue(sealed.seal(core.keyring, sealed.OUTBOX, "link"), 2))
    usage = {k.key_id: k.backs for k in list_secret_keys(core)}
    assert usage == {original: 2, rotated.key_id: 2}  # the text and the attachment of each
    with pytest.raises(Conflict, match="still backs 2"):
        retire_secret(core, original)
