"""Delete OAuth rows that can never work again: ended tokens and expired authorization codes.

The rules (what has ended, the 30-day retention of revoked tokens, reuse detection) live in
``operations.purge_oauth_rows``; this only runs them for one account as the scheduler.
"""

from __future__ import annotations

from tokenry.core import Core
from tokenry.domain.settings import AccountSettings
from tokenry.jobs._shared import scheduler
from tokenry.operations.purge_oauth_rows import purge_ended_oauth_tokens, purge_expired_oauth_codes


def purge_ended_oauth_tokens_job(core: Core, account_id: int, policy: AccountSettings) -> int:
    return purge_ended_oauth_tokens(core, scheduler(account_id))


def purge_expired_oauth_codes_job(core: Core, account_id: int, policy: AccountSettings) -> int:
    return purge_expired_oauth_codes(core, scheduler(account_id))
