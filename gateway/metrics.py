"""Prometheus metrics and the helpers other code calls to feed them.

Lower layers do not import this module: the entry points hand its helpers down
(gateway/event_metrics.py's `install_metrics` and `metrics_observers`).

Labels stay low-cardinality: operation names are capped (`operation_label`), actions and caches
are short fixed names chosen in code, and nothing is labelled by user or post id. Per-user and
per-post engagement is data in MongoDB, not a metric.

With several uvicorn workers set PROMETHEUS_MULTIPROC_DIR (an empty directory shared by the API
and worker processes): every process then writes its samples there and `/metrics` aggregates them.
Without it each process serves its own default registry.
"""

from __future__ import annotations

import logging
import os
import re
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import REGISTRY as DEFAULT_REGISTRY

log = logging.getLogger("gateway.metrics")

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
_SIZE_BUCKETS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)

REQUEST_LATENCY = Histogram(
    "photogram_graphql_request_duration_seconds",
    "GraphQL operation latency (parse to result).",
    ["operation", "type"],
    buckets=_LATENCY_BUCKETS,
)
ERRORS = Counter(
    "photogram_graphql_errors_total",
    "GraphQL errors returned, by extensions.code.",
    ["code", "type"],
)
REFUSED = Counter(
    "photogram_gateway_refused_total",
    "Requests refused by a gateway limit before execution.",
    ["reason"],
)
QUERY_COST = Histogram(
    "photogram_graphql_query_cost",
    "Requested cost of executed operations.",
    ["type"],
    buckets=(1, 5, 10, 50, 100, 500, 1000, 2500, 5000, 10000),
)
BATCH_SIZE = Histogram(
    "photogram_dataloader_batch_size",
    "Keys per dataloader batch.",
    ["loader"],
    buckets=_SIZE_BUCKETS,
)
CACHE = Counter(
    "photogram_cache_requests_total",
    "Cache look-ups by cache and result (hit or miss).",
    ["cache", "result"],
)
ACTIONS = Counter(
    "photogram_actions_total",
    "User actions: post, like, unlike, comment, follow, unfollow...",
    ["action"],
)
WS_CONNECTIONS = Gauge(
    "photogram_websocket_connections",
    "Open WebSocket connections.",
    multiprocess_mode="livesum",
)
SUBSCRIPTIONS = Gauge(
    "photogram_active_subscriptions",
    "Running GraphQL subscriptions.",
    multiprocess_mode="livesum",
)
QUEUE_DEPTH = Gauge(
    "photogram_queue_jobs",
    "Jobs in the worker queue by state (refreshed on scrape).",
    ["state"],
    multiprocess_mode="mostrecent",
)
JOB_LAG = Gauge(
    "photogram_queue_oldest_job_age_seconds",
    "Age of the oldest job waiting in the queue, by job function (refreshed on scrape): "
    "how far fan-out and media processing lag behind.",
    ["function"],
    multiprocess_mode="mostrecent",
)

# --- operation-name labels ----------------------------------------------------------------
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
ANONYMOUS = "anonymous"
OTHER = "other"
_seen_operations: set[str] = set()
_max_operation_names = 200


def set_operation_name_cap(cap: int) -> None:
    global _max_operation_names
    _max_operation_names = cap


def operation_label(name: str | None) -> str:
    """The label for an operation name: the name for the first N distinct names this process
    sees, then `other`; `anonymous` for unnamed operations. Clients choose names freely, so an
    uncapped label would let anyone create unbounded series."""
    if not name or not _NAME.match(name):
        return ANONYMOUS
    if name in _seen_operations:
        return name
    if len(_seen_operations) >= _max_operation_names:
        return OTHER
    _seen_operations.add(name)
    return name


# --- helpers for other code ---------------------------------------------------------------
def observe_batch(loader_name: str, size: int) -> None:
    """Record one dataloader (or other batched resolver) batch of `size` keys."""
    BATCH_SIZE.labels(loader_name).observe(size)


def observe_cache(cache_name: str, hit: bool, count: int = 1) -> None:
    """Record `count` look-ups in cache `cache_name` (a fixed name such as "user_doc")."""
    if count > 0:
        CACHE.labels(cache_name, "hit" if hit else "miss").inc(count)


def count_action(action: str, amount: int = 1) -> None:
    """Count a user action ("post", "like", "comment", "follow"...), from domain events
    (gateway/event_metrics.py)."""
    ACTIONS.labels(action).inc(amount)


def count_refusal(reason: str) -> None:
    REFUSED.labels(reason).inc()


# --- the queue gauges and /metrics ----------------------------------------------------------
_OLDEST_SCAN = 100


async def refresh_queue_metrics(queue: Any) -> None:
    """Read depth and the oldest waiting jobs from the saq queue. Called on each scrape, so a
    scrape costs a few Redis commands and the gauges are never stale."""
    for state in ("queued", "active", "incomplete"):
        QUEUE_DEPTH.labels(state).set(await queue.count(state))
    redis = getattr(queue, "redis", None)
    queued_key = getattr(queue, "_queued", None)
    if redis is None or queued_key is None:
        return
    # saq pushes new jobs on the left and workers pop from the right: the right end is oldest.
    job_ids = await redis.lrange(queued_key, -_OLDEST_SCAN, -1)
    oldest: dict[str, float] = {}
    now_ms = time.time() * 1000
    if job_ids:
        for raw in await redis.mget(job_ids):
            if raw is None:
                continue
            job = queue.deserialize(raw)
            if job is None or not job.queued:
                continue
            age = max(0.0, (now_ms - job.queued) / 1000)
            oldest[job.function] = max(oldest.get(job.function, 0.0), age)
    # Functions with no waiting job report 0 rather than keeping a stale age.
    for labels in list(_known_lag_functions):
        if labels not in oldest:
            JOB_LAG.labels(labels).set(0)
    for function, age in oldest.items():
        _known_lag_functions.add(function)
        JOB_LAG.labels(function).set(age)


_known_lag_functions: set[str] = set()


def registry() -> CollectorRegistry:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        return DEFAULT_REGISTRY
    from prometheus_client import multiprocess

    collected = CollectorRegistry()
    multiprocess.MultiProcessCollector(collected, path=directory)
    return collected


def render_metrics() -> tuple[bytes, str]:
    return generate_latest(registry()), CONTENT_TYPE_LATEST


def observe_doc_cache(collection: str, hits: int, misses: int) -> None:
    """One document-cache look-up (datastore/doc_cache.py) of `hits + misses` ids."""
    observe_cache(f"{collection}_doc", True, hits)
    observe_cache(f"{collection}_doc", False, misses)
