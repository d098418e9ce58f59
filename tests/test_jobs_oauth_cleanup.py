"""The scheduler's OAuth clean-up: ended tokens and expired codes are deleted in batches, a
revoked token is kept 30 days, nothing live is touched, and a spent refresh token or used
code stays while its family lives so a replay still revokes the family. The test clock moves
time; every row is made by the operations the OAuth endpoints call."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.conftest import Clock
from tokenry.core import Core
from tokenry.jobs.runner import JOBS, run_jobs
from tokenry.operations.context import Actor
from tokenry.operations.create_oauth_client import ClientFields, create_oauth_client
from tokenry.operations.create_oauth_token import create_oauth_token
from tokenry.operations.oauth_grants import (
    ClientRecord,
    find_code,
    find_grant_client,
    find_refresh,
    issue_for_grant,
    new_code,
    rotate,
    save_code,
    spend_code,
)
from tokenry.operations.purge_oauth_rows import purge_ended_oauth_tokens
from tokenry.operations.revoke_oauth_token import revoke_oauth_token
from tokenry.storage.models import AuditEvent, OAuthCode, OAuthToken

TOKENS, CODES = "purge_ended_oauth_tokens", "purge_expired_oauth_codes"
CALLBACK = "https://app.example.com/cb"
HOUR = timedelta(hours=1)
SECOND = timedelta(seconds=1)


def make_client(core: Core, admin: Actor, *, access: int = 3600,
                refresh: int = 7200) -> ClientRecord:
    created = create_oauth_client(core, admin, ClientFields(
        name="App", identifier="app", kind="confidential", redirect_uris=[CALLBACK],
        user_id=admin.user_id, access_token_seconds=access, refresh_token_seconds=refresh))
    found = find_grant_client(core, admin.account_id, created.client.identifier)
    assert found is not None
    return found


def token_ids(core: Core) -> set[int]:
    with core.db.read() as session:
        return set(session.scalars(select(OAuthToken.id)))


def code_count(core: Core) -> int:
    with core.db.read() as session:
        return session.scalar(select(func.count()).select_from(OAuthCode)) or 0


def revoked(core: Core, token_id: int) -> bool:
    with core.db.read() as session:
        row = session.get(OAuthToken, token_id)
        assert row is not None
        return row.revoked_at is not None


def purge(core: Core, job: str = TOKENS) -> int:
    report = run_jobs(core, job)
    assert report.errors == {}
    return report.counts[job]


def test_the_jobs_are_registered_after_the_other_clean_ups() -> None:
    names = list(JOBS)
    assert names.index(TOKENS) > names.index("purge_ended_sessions")
    assert CODES in names


def test_a_token_goes_when_access_and_refresh_have_both_ended(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    client = make_client(core, admin_actor)  # access 1 h, refresh 2 h
    assert admin_actor.user_id is not None
    with_refresh = create_oauth_token(core, admin_actor, client.id, "read").token.id
    access_only = issue_for_grant(core, client, user_id=admin_actor.user_id, scopes=["read"],
                                  grant_type="client_credentials", with_refresh=False).token.id
    assert purge(core) == 0  # both live
    clock.now += HOUR - SECOND
    assert purge(core) == 0  # a second of access left: live
    clock.now += 2 * SECOND
    assert purge(core) == 1  # the access-only token has ended; the refresh token still works
    assert token_ids(core) == {with_refresh}
    clock.now += HOUR
    assert purge(core) == 1 and token_ids(core) == set()
    assert access_only not in token_ids(core)


def test_a_spent_refresh_token_stays_while_its_family_lives_so_a_replay_is_still_caught(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    client = make_client(core, admin_actor, access=300, refresh=3600)
    first = create_oauth_token(core, admin_actor, client.id, "read")
    assert first.refresh_token is not None
    clock.now += timedelta(minutes=50)
    old = find_refresh(core, client, first.refresh_token)
    assert old is not None
    second = rotate(core, client, old, ["read"]).token.id  # refresh lives until +110 min
    clock.now += timedelta(minutes=11)  # the first row's access and refresh have both ended
    assert purge(core) == 0 and token_ids(core) == {first.token.id, second}
    assert find_refresh(core, client, first.refresh_token) is None  # the replay ...
    assert revoked(core, second)  # ... revokes the family, as it did before the clean-up
    assert purge(core) == 1 and token_ids(core) == {second}  # the family is dead now
    clock.now += timedelta(days=30)
    assert purge(core) == 1 and token_ids(core) == set()


def test_a_revoked_token_is_kept_30_days_and_a_live_one_for_its_whole_life(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    client = make_client(core, admin_actor, refresh=90 * 86400)
    ended = create_oauth_token(core, admin_actor, client.id, "read").token.id
    live = create_oauth_token(core, admin_actor, client.id, "read").token.id
    revoke_oauth_token(core, admin_actor, ended)
    clock.now += timedelta(days=30) - SECOND
    assert purge(core) == 0
    clock.now += 2 * SECOND
    assert purge(core) == 1 and token_ids(core) == {live}
    clock.now += timedelta(days=59)  # the refresh token still has a day
    assert purge(core) == 0 and token_ids(core) == {live}


def test_codes_go_at_expiry_but_a_used_one_stays_while_its_tokens_live(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    client = make_client(core, admin_actor)
    assert admin_actor.user_id is not None
    unused, used = new_code(core), new_code(core)
    for code in (unused, used):
        save_code(core, client, admin_actor.user_id, code, redirect_uri=CALLBACK,
                  scopes=["read"], code_challenge=None, code_challenge_method=None)
    record = find_code(core, client, used)
    assert record is not None and spend_code(core, record.id)
    token = issue_for_grant(core, client, user_id=admin_actor.user_id, scopes=["read"],
                            grant_type="authorization_code", with_refresh=True,
                            family=record.family).token.id
    clock.now += timedelta(minutes=10) - SECOND
    assert purge(core, CODES) == 0 and code_count(core) == 2
    clock.now += 2 * SECOND
    assert purge(core, CODES) == 1 and code_count(core) == 1  # the unused one
    assert find_code(core, client, used) is None and revoked(core, token)  # replay caught
    assert purge(core, CODES) == 1 and code_count(core) == 0


def test_a_large_backlog_goes_in_audited_batches(
        core: Core, admin_actor: Actor, clock: Clock) -> None:
    client = make_client(core, admin_actor)
    made = [create_oauth_token(core, admin_actor, client.id, "read").token.id
            for _ in range(5)]
    clock.now += 2 * HOUR + SECOND
    assert purge_ended_oauth_tokens(core, admin_actor, batch=2) == 5
    assert token_ids(core) == set()
    with core.db.read() as session:
        events = session.scalars(select(AuditEvent).where(
            AuditEvent.action == "destroy", AuditEvent.source_type == "oauth_token")
            .order_by(AuditEvent.id)).all()
    assert [event.changes["id"][0] for event in events] == [made[:2], made[2:4], made[4:]]
    assert all("ended OAuth token" in event.change_description for event in events)


@pytest.mark.parametrize("dry_run", [True, False])
def test_jobs_run_and_the_dry_run_show_the_clean_up(
        core: Core, admin_actor: Actor, cli: Any, dry_run: bool) -> None:
    client = make_client(core, admin_actor)
    create_oauth_token(core, admin_actor, client.id, "read")
    if dry_run:
        at = (core.clock() + 3 * HOUR).isoformat()
        result = cli("jobs", "run", "--dry-run", "--at", at, "--json")
        assert result.exit_code == 0, result.output
        preview = json.loads(result.stdout)
        assert preview["counts"][TOKENS] == 1 and preview["counts"][CODES] == 0
        assert any("Deleted 1 ended OAuth token(s)" in item["summary"]
                   for item in preview["would"])
        assert len(token_ids(core)) == 1  # nothing changed
    else:
        result = cli("jobs", "run", "--only", TOKENS, "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["counts"] == {TOKENS: 0}  # still live now
        assert len(token_ids(core)) == 1
