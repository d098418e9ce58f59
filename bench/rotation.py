"""What a rotated keyring costs verification: one key against two, in the same run.

Run it as ``.venv/bin/python bench/rotation.py`` (``--quick`` for a short run). One SQLite
database in a temporary directory holds 2,000 API tokens made with the original key. Two
cores read it: ``one key`` (the original secret only: the server before any rotation) and
``two keys`` (after ``rotate_secret``: a new current key, the original kept), so every token
is an *old* token for the second core: the case a rotation adds.

* ``hashed hit``: ``verifier.authenticate`` with the token cache warm: one HMAC under the
  current key and dictionary look-ups (the header cache, bench/verify.py part 1, never
  hashes at all and is not touched by the keyring);
* ``miss``: the same call with the cache emptied first: the HMAC under every key and one
  query (``secret_hash = ?`` with one key, ``secret_hash IN (?, ?)`` with two);
* ``unknown token``: a miss that finds nothing (plus one ``stat`` of the keyring file).

Each pair alternates its repeats so machine noise hits both alike; the table shows medians,
the spread (min-max of the repeats) and ``vs one key``: two keys' time / one key's time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tokenry.auth.credentials import TokenCredential
from tokenry.config import Settings
from tokenry.core import Core, build_core
from tokenry.domain import token_format
from tokenry.domain.errors import Unauthenticated
from tokenry.operations.bootstrap import bootstrap, bootstrap_admin
from tokenry.operations.context import Actor
from tokenry.operations.create_token import create_token
from tokenry.operations.rotate_secret import rotate_secret
from tokenry.storage.models import Account

TOKENS = 2_000


def populate(directory: Path) -> tuple[Settings, Settings, list[TokenCredential]]:
    with_file = Settings(database_url=f"sqlite:///{directory}/bench.db",
                         secret_key_file=directory / "tokenry.secret", verify_cache_ttl=300)
    core = build_core(with_file)
    core.db.upgrade()
    bootstrap(core)
    admin = bootstrap_admin(core)
    assert admin is not None
    with core.db.transaction() as session:
        account = session.get(Account, admin.account_id)
        assert account is not None
        account.large_token_limit = True
    actor = Actor(account_id=admin.account_id, user_id=admin.id, label=admin.email, via="cli")
    original = core.keyring.current.secret.decode()
    credentials = [TokenCredential(create_token(core, actor).secret, admin.email)
                   for _ in range(TOKENS)]
    rotate_secret(core)
    core.close()
    one_key = with_file.model_copy(update={"secret_key": Settings(
        secret_key=original).secret_key})
    return one_key, with_file, credentials


def per_call(core: Core, credentials: list[TokenCredential], *, empty_cache: bool,
             expect: bool) -> Callable[[], float]:
    verifier, cache = core.verifier, core.cache

    def run() -> float:
        started = time.perf_counter()
        for credential in credentials:
            if empty_cache:
                cache.clear()
            try:
                verifier.authenticate("default", credential)
                assert expect
            except Unauthenticated:
                assert not expect
        return (time.perf_counter() - started) / len(credentials)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    repeats = 5 if parser.parse_args().quick else 11
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="tokenry-rotation-") as name:
        one_settings, two_settings, credentials = populate(Path(name))
        one, two = build_core(one_settings), build_core(two_settings)
        assert len(one.keyring.keys) == 1 and len(two.keyring.keys) == 2
        unknown = [TokenCredential(token_format.generate("tkry").secret, c.email)
                   for c in credentials[:500]]
        cases = {
            "hashed hit": lambda core: per_call(core, credentials, empty_cache=False,
                                                expect=True),
            "miss": lambda core: per_call(core, credentials[:500], empty_cache=True,
                                          expect=True),
            "unknown token": lambda core: per_call(core, unknown, empty_cache=True,
                                                   expect=False),
        }
        print(f"{'path':<15}{'keys':>10}{'median us':>12}{'spread us':>16}{'vs one key':>12}")
        for label, make in cases.items():
            loops = {"one key": make(one), "two keys": make(two)}
            for loop in loops.values():
                loop()  # warm the caches and the connections
            times: dict[str, list[float]] = {key: [] for key in loops}
            for _ in range(repeats):
                for key, loop in loops.items():
                    times[key].append(loop() * 1e6)
            base = statistics.median(times["one key"])
            for key, values in times.items():
                middle = statistics.median(values)
                print(f"{label:<15}{key:>10}{middle:>12.2f}"
                      f"{f'{min(values):.2f}-{max(values):.2f}':>16}{middle / base:>11.2f}x")
        one.close()
        two.close()
    print(f"\n{repeats} alternating repeats; {os.cpu_count()} CPUs; load average "
          f"{load_before:.2f} before the run, {os.getloadavg()[0]:.2f} after it")


if __name__ == "__main__":
    main()
