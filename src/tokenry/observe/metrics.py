"""The counters and histograms a tokenry process keeps, in a registry of its own.

Each :class:`Metrics` owns a ``CollectorRegistry`` (never prometheus-client's global one), so
two apps in one process, or one test after another, never share or collide on a series.

Label values are closed sets fixed here: an outcome, a credential kind, a route *template*
(``/api/v2/api_tokens/{token_id}``, never the path a client sent), a job's name, a channel.
No id, address or secret ever becomes a label. The hot path's series are bound once, in
``__init__``, so counting a verification is one locked float addition, not a label look-up.
"""

from __future__ import annotations

from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, GCCollector, Histogram

Outcome = Literal["ok", "refused", "throttled"]
Kind = Literal["api_token", "oauth", "password", "none"]
# Where a person or a client proves who it is outside the API's Authorization header
Surface = Literal["admin_center", "oauth_client"]
SURFACES: tuple[Surface, ...] = ("admin_center", "oauth_client")
OUTCOMES: tuple[Outcome, ...] = ("ok", "refused", "throttled")
KINDS: tuple[Kind, ...] = ("api_token", "oauth", "password", "none")
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # a request no route answered (404s, probes): never its raw path
# Seconds. A cache hit answers in well under a millisecond; a password check takes ~50 ms.
LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0,
                   2.5, 5.0, 10.0)
JOB_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        # python_gc_*: collections by generation, so an operator can see the collector's
        # work (tokenry.runtime tunes it for the server)
        GCCollector(registry=registry)
        verifications = Counter(
            "tokenry_verifications", "Credential checks by outcome and credential kind "
            "(none: no or an unreadable Authorization header)",
            ["outcome", "kind"], registry=registry)
        self.verifications = {(outcome, kind): verifications.labels(outcome, kind)
                              for outcome in OUTCOMES for kind in KINDS}
        self.ok_api_token = self.verifications["ok", "api_token"]
        self.ok_oauth = self.verifications["ok", "oauth"]
        self.ok_password = self.verifications["ok", "password"]
        cache = Counter("tokenry_verify_cache", "Verifications answered from memory (hit) or "
                        "that needed the database (miss)", ["result"], registry=registry)
        self.cache_hit = cache.labels("hit")
        self.cache_miss = cache.labels("miss")
        sign_ins = Counter(
            "tokenry_sign_ins", "Sign-ins by surface and outcome: a person's password on the "
            "Admin Center, an OAuth client's secret at the token, revocation and "
            "introspection endpoints", ["surface", "outcome"], registry=registry)
        self.sign_ins = {(surface, outcome): sign_ins.labels(surface, outcome)
                         for surface in SURFACES for outcome in OUTCOMES}
        self.throttled_sources = Counter(
            "tokenry_throttled_sources", "Times a source (client address) reached the "
            "failure limit and was throttled", registry=registry)
        redis_errors = Counter(
            "tokenry_redis_errors", "Failed or timed-out Redis calls by what they shared "
            "(the node used its own state instead)", ["operation"], registry=registry)
        self.redis_errors = {op: redis_errors.labels(op)
                             for op in ("throttle", "rate_limit", "usage")}
        self.redis_up = Gauge("tokenry_redis_up", "1 while Redis answers (or is not "
                              "configured), 0 while this node falls back to its own state",
                              registry=registry)
        self.redis_up.set(1)
        self._latency = Histogram(
            "tokenry_http_request_duration_seconds", "Time to answer a request, by method "
            "and route template", ["method", "route"], buckets=LATENCY_BUCKETS,
            registry=registry)
        self._latency_series: dict[tuple[str, str], Histogram] = {}
        self.notification_failures = Counter(
            "tokenry_notification_failures", "Failed notification deliveries by channel; "
            "outcome dead means the last attempt was used", ["channel", "outcome"],
            registry=registry)
        self.job_runs = Counter("tokenry_job_runs", "Scheduled job runs by job and result",
                                ["job", "result"], registry=registry)
        self.job_duration = Histogram("tokenry_job_duration_seconds", "Time a job's run took "
                                      "(all accounts)", ["job"], buckets=JOB_BUCKETS,
                                      registry=registry)

    def latency(self, method: str, route: str) -> Histogram:
        """The histogram series for one method and route template, bound on first use."""
        key = (method if method in METHODS else "OTHER", route)
        series = self._latency_series.get(key)
        if series is None:
            series = self._latency_series[key] = self._latency.labels(*key)
        return series

    def job_ran(self, job: str, seconds: float, *, failed: bool) -> None:
        """One run of ``job`` over every account; ``failed`` when any account's run raised."""
        self.job_runs.labels(job, "failed" if failed else "ok").inc()
        self.job_duration.labels(job).observe(seconds)

    def signed_in(self, surface: Surface, outcome: Outcome) -> None:
        self.sign_ins[surface, outcome].inc()

    def refused(self, kind: Kind, *, throttled: bool = False) -> None:
        self.verifications["throttled" if throttled else "refused", kind].inc()
