"""The one object behind every front end: settings, database, hashing, verification, usage.

HTTP, CLI and (later) the scheduler each build a :class:`Core` with :func:`build_core` and call
the same operations with it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from tokenry.auth.cache import TTLCache
from tokenry.auth.lookups import Lookups
from tokenry.auth.rate_limit import RateLimiter
from tokenry.auth.throttle import FailureThrottle
from tokenry.auth.usage import UsageRecorder
from tokenry.auth.verifier import Verifier
from tokenry.config import Settings
from tokenry.domain import oauth
from tokenry.domain.token_format import TokenHasher
from tokenry.observe.metrics import Metrics
from tokenry.observe.scrape import ScrapeCollector
from tokenry.server_secret import load_or_create
from tokenry.storage.database import Database

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Core:
    settings: Settings
    db: Database
    hasher: TokenHasher
    server_key: bytes = field(repr=False)
    verifier: Verifier
    throttle: FailureThrottle
    usage: UsageRecorder
    cache: TTLCache
    rate_limit: RateLimiter = field(default_factory=RateLimiter)
    clock: Clock = field(default=utc_now)
    metrics: Metrics = field(default_factory=Metrics)

    def close(self) -> None:
        self.db.dispose()


def build_core(settings: Settings, *, clock: Clock = utc_now) -> Core:
    db = Database(settings.database_url)
    server_key = load_or_create(settings)
    hasher = TokenHasher(server_key)
    cache = TTLCache(settings.verify_cache_ttl)
    db.on_identity_change(cache.clear)
    metrics = Metrics()
    metrics.registry.register(ScrapeCollector(db, cache.__len__, clock))
    return Core(
        settings=settings,
        db=db,
        hasher=hasher,
        server_key=server_key,
        verifier=Verifier(hasher, Lookups(db), cache, clock,
                          access_prefix=oauth.prefix_for(settings.token_prefix, oauth.ACCESS)
                          + "_", timestamp=time.time if clock is utc_now else None),
        throttle=FailureThrottle(settings.auth_failure_limit, settings.auth_failure_window),
        usage=UsageRecorder(),
        cache=cache,
        clock=clock,
        metrics=metrics,
    )
