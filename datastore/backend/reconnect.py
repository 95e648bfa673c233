"""Writes retried after the server dropped the connection, where that is safe.

Why: a standalone server (our FerretDB, mongo-java-server) gives no retryable writes, so a
write that meets a dropped connection (FerretDB restarted, a connection handler panicked)
fails even though the server is back a moment later. A write is retried here only when
running it twice cannot count twice:
- an insert whose `_id` is fixed before the first attempt: if the first one landed, the retry
  meets its own document (DuplicateKeyError on `_id`, same content) and that is success;
- a `$set`, or an upsert of fixed values (`write(op, idempotent=True)`).
`$inc` is never retried: it surfaces as SERVICE_UNAVAILABLE and the counter is left to
reconciliation. An unreachable server (ServerSelectionTimeoutError, after
serverSelectionTimeoutMS) is not retried either: the request answers in bounded time.
Bound: ATTEMPTS tries, the waits between them about 2 s in all (plus each attempt's server
selection while the server is still down)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar

from bson import ObjectId
from pymongo.errors import AutoReconnect, DuplicateKeyError, ServerSelectionTimeoutError

log = logging.getLogger(__name__)

T = TypeVar("T")

ATTEMPTS = 3
_WAITS = (0.5, 1.5)


async def retry_dropped(op: Callable[[], Awaitable[T]]) -> T:
    """Run `op` (safe to repeat), again after a dropped connection."""
    for attempt in range(ATTEMPTS):
        try:
            return await op()
        except AutoReconnect as exc:
            if isinstance(exc, ServerSelectionTimeoutError) or attempt == ATTEMPTS - 1:
                raise
            log.warning("mongo dropped a connection during a write (%s); retrying", exc)
            await asyncio.sleep(_WAITS[attempt])
    raise AssertionError("unreachable")


async def insert_retrying(
    coll: Any, doc: Mapping[str, Any], run: Callable[[Callable[[], Awaitable[T]]], Awaitable[T]]
) -> Any:
    """Insert `doc` with an `_id` fixed first, retrying after a dropped connection; returns
    the `_id`. `run` wraps each attempt (the FerretDB backend's SQLITE_BUSY retries)."""
    body = dict(doc)
    body.setdefault("_id", ObjectId())
    retried = False

    async def attempt() -> Any:
        nonlocal retried
        try:
            return (await run(lambda: coll.insert_one(body))).inserted_id
        except DuplicateKeyError:
            if retried and _same(await coll.find_one({"_id": body["_id"]}), body):
                return body["_id"]  # the attempt whose answer was lost had landed
            raise
        except AutoReconnect:
            retried = True
            raise

    return await retry_dropped(attempt)


def _same(stored: Mapping[str, Any] | None, body: Mapping[str, Any]) -> bool:
    """Is `stored` the document `body` as MongoDB keeps it (times at millisecond precision)?
    Another writer's copy of a deterministic `_id` (an edge) differs in its `created_at`."""
    if stored is None or stored.keys() != body.keys():
        return False
    return all(_ms(stored[k]) == _ms(v) for k, v in body.items())


def _ms(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
        return int(aware.timestamp() * 1000)
    return value
