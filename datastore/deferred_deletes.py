"""Redis keys a write could not delete because Redis was down, remembered per client and
deleted in the same round trip as that client's next use of them.

Why: a cache entry or a derived set that a committed write should have dropped would, in a
Redis that kept its data through the outage (AOF), be served stale until its TTL. The owner of
the keys (document cache, comment threads) defers the delete here and, on its next pipeline,
queues `DEL` first: no extra round trip, and nothing at all in the healthy case (the check is a
dictionary lookup). Bounded per client; past the bound the keys' TTLs bound the staleness. A
process that dies with deferred keys leaves them to those TTLs too."""

from __future__ import annotations

import weakref
from typing import Any

MAX_DEFERRED = 10_000

_DEFERRED: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def defer_delete(redis: Any, keys: list[str]) -> None:
    pending = _DEFERRED.setdefault(redis, set())
    if len(pending) < MAX_DEFERRED:
        pending.update(keys)


def deferred(redis: Any) -> list[str]:
    """The keys waiting for `redis` (empty in the healthy case). After the pipeline that
    deletes them succeeds, call `done`."""
    pending = _DEFERRED.get(redis)
    return list(pending) if pending else []


def done(redis: Any, keys: list[str]) -> None:
    pending = _DEFERRED.get(redis)
    if pending is not None:
        pending.difference_update(keys)
