"""The one object behind every front end: settings, database, hashing, verification, usage.

HTTP, CLI and (later) the scheduler each build a :class:`Core` with :func:`build_core` and call
the same operations with it.

How long a verification may be served from memory: a commit on this node clears the cache
at once, whatever the TTL. Other nodes' (and the CLI's) changes reach it through the
:class:`InvalidationWatcher` a server starts (:func:`watch_identity_changes`). While that
watcher is connected an entry may live ``verify_cache_ttl_listening`` seconds (300); while
it is not (not started, or its connection lost: that also clears the cache), the short
``verify_cache_ttl`` (2 s) bounds staleness. An expiring credential's entry ends at its
deadline either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tokenry.auth.cache import TTLCache
from tokenry.auth.invalidation import InvalidationWatcher
from tokenry.auth.lookups import Lookups
from tokenry.auth.misses import AsyncMisses
from tokenry.auth.rate_limit import RateLimiter
from tokenry.auth.shared import SharedStore
from tokenry.auth.throttle import FailureThrottle
from tokenry.auth.usage import UsageRecorder
from tokenry.auth.verifier import Verifier
from tokenry.config import Settings
from tokenry.domain import oauth
from tokenry.domain.keyring import Keyring
from tokenry.domain.token_format import TokenHasher
from tokenry.observe.metrics import Metrics
from tokenry.observe.scrape import ScrapeCollector
from tokenry.server_secret import KeyringSource, load_source
from tokenry.storage.database import LOOKUP_POOL_SIZE, Database

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Core:
    settings: Settings
    db: Database
    hasher: TokenHasher
    keys: KeyringSource
    verifier: Verifier
    throttle: FailureThrottle
    usage: UsageRecorder
    cache: TTLCache
    misses: AsyncMisses  # the verifier's cache misses, answered on the event loop
    rate_limit: RateLimiter = field(default_factory=RateLimiter)
    clock: Clock = field(default=utc_now)
    metrics: Metrics = field(default_factory=Metrics)
    shared: SharedStore | None = None  # Redis, when TOKENRY_REDIS_URL is set

    @property
    def keyring(self) -> Keyring:
        """Every server secret, the current one first (reloaded when the file changes)."""
        return self.keys.keyring()

    @property
    def server_key(self) -> bytes:
        """The current server secret: what new digests and seals are made with."""
        return self.keys.keyring().current.secret

    def close(self) -> None:
        self.db.dispose()
        self.rate_limit.close()
        if self.shared is not None:
            self.shared.close()

    def listening(self, connected: bool) -> None:
        """The invalidation watcher connected (long TTL) or lost its connection (short TTL,
        and what the cache holds may already be stale: cleared)."""
        settings = self.settings
        if connected and settings.verify_cache_ttl > 0:  # 0: the operator turned it off
            self.cache.set_ttl(settings.verify_cache_ttl_listening)
        else:
            self.cache.set_ttl(settings.verify_cache_ttl, clear=True)


def watch_identity_changes(core: Core) -> InvalidationWatcher:
    """A started watcher that clears ``core``'s cache on other processes' identity changes
    and sets its TTL by whether it is connected; stop it with ``stop()``."""
    watcher = InvalidationWatcher(core.settings.database_url, core.cache.clear,
                                  on_listening=core.listening)
    watcher.start()
    return watcher


def build_core(settings: Settings, *, clock: Clock = utc_now) -> Core:
    db = Database(settings.database_url)
    keys = load_source(settings)
    hasher = TokenHasher(keys)
    cache = TTLCache(settings.verify_cache_ttl, settings.verify_cache_entries)
    db.on_identity_change(cache.clear)
    metrics = Metrics()
    metrics.registry.register(ScrapeCollector(db, cache, clock))
    shared = None if settings.redis_url is None else SharedStore(
        settings.redis_url.get_secret_value(), settings.resolved_redis_prefix(),
        settings.redis_timeout, metrics)
    lookups = Lookups(db)
    verifier = Verifier(hasher, lookups, cache, clock,
                        access_prefix=oauth.prefix_for(settings.token_prefix, oauth.ACCESS)
                        + "_", timestamp=time.time if clock is utc_now else None)
    return Core(
        settings=settings,
        db=db,
        hasher=hasher,
        keys=keys,
        verifier=verifier,
        misses=AsyncMisses(verifier, lookups, hasher, LOOKUP_POOL_SIZE),
        throttle=FailureThrottle(settings.auth_failure_limit, settings.auth_failure_window,
                                 shared=shared),
        usage=UsageRecorder(shared=shared),
        rate_limit=RateLimiter(shared=shared, sync_interval=settings.redis_sync_interval),
        shared=shared,
        cache=cache,
        clock=clock,
        metrics=metrics,
    )
