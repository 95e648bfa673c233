"""`Stores`: the process-wide clients (MongoDB, Redis, object storage), opened once and shared by
the API and the worker."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, ServerSelectionTimeoutError
from redis.asyncio import Redis

from core.settings import Settings
from datastore.index_readiness import IndexReadiness
from datastore.mongo import connect_mongo
from datastore.objects import ObjectStore
from datastore.redis import RedisKeys, connect_redis

if TYPE_CHECKING:
    from datastore.backend import Backend

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class Stores:
    settings: Settings
    mongo: AsyncMongoClient
    db: AsyncDatabase
    redis: Redis
    # Binary-safe client (no response decoding) for BSON-encoded cache entries.
    redis_raw: Redis
    keys: RedisKeys
    objects: ObjectStore
    # The writes that differ between MongoDB servers, chosen by `settings.mongo_flavor`.
    backend: Backend = field(init=False, repr=False)
    # Whether every registered index exists; /readyz stays 503 until it does.
    indexes: IndexReadiness = field(init=False, repr=False, default_factory=IndexReadiness)

    def __post_init__(self) -> None:
        # Imported here: the backends build on modules that import this one.
        from datastore.backend import open_backend

        self.backend = open_backend(self)

    async def close(self) -> None:
        for close in (self.redis.aclose, self.redis_raw.aclose, self.mongo.close):
            try:
                await close()
            except Exception as exc:  # closing a client of a dead server must not mask shutdown
                log.warning("error while closing a client: %s", _first_line(exc))


def open_stores(
    settings: Settings,
    *,
    mongo_listeners: list | None = None,
    redis_connection_class: type | None = None,
) -> Stores:
    """Create the clients. Nothing connects yet: drivers connect lazily on first use.
    The keyword arguments attach instrumentation (datastore/instrumentation.py)."""
    mongo = connect_mongo(
        settings, **({"event_listeners": mongo_listeners} if mongo_listeners else {})
    )
    return Stores(
        settings=settings,
        mongo=mongo,
        db=mongo[settings.mongodb_db],
        redis=connect_redis(settings, connection_class=redis_connection_class),
        redis_raw=connect_redis(settings, decode=False, connection_class=redis_connection_class),
        keys=RedisKeys(settings.redis_prefix),
        objects=ObjectStore(settings),
    )


async def prepare_stores(stores: Stores) -> list[str]:
    """Create indexes and the bucket. Returns the names of services that could not be prepared
    ("indexes" when MongoDB answers but an index cannot be created), logging one line each
    instead of a traceback, so a half-configured deployment still starts and reports itself
    unready on /readyz."""
    # Import the modules that register indexes, so the registry is complete.
    import datastore.collections  # noqa: F401

    failed: list[str] = []
    settings = stores.settings
    try:
        problems = await _with_reconnects(lambda: stores.indexes.ensure(stores.db))
    except Exception as exc:
        failed.append("mongo")
        log.error("mongo unreachable at %s: %s", _redact(settings.mongodb_url), _first_line(exc))
    else:
        # Each problem was logged with its index and duplicates; every other index exists.
        if problems:
            failed.append("indexes")
    try:
        await stores.objects.ensure_bucket()
    except Exception as exc:
        failed.append("storage")
        log.error("storage unreachable at %s: %s", settings.s3_endpoint, _first_line(exc))
    try:
        await stores.redis.ping()
    except Exception as exc:
        failed.append("redis")
        log.error("redis unreachable at %s: %s", _redact(settings.redis_url), _first_line(exc))
    return failed


async def _with_reconnects(op: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    """Run `op` again when the server dropped the connection mid-command.

    Why: FerretDB 1.24 occasionally panics in a connection handler ("slice bounds out of
    range") and closes that connection; reads are retried by the driver, but createIndexes is
    not. An unreachable server (ServerSelectionTimeoutError) is not retried."""
    for attempt in range(attempts):
        try:
            return await op()
        except AutoReconnect as exc:
            if isinstance(exc, ServerSelectionTimeoutError) or attempt == attempts - 1:
                raise
            log.warning("mongo dropped a connection (%s); retrying", _first_line(exc))
    raise AssertionError("unreachable")


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]


def _redact(url: str) -> str:
    """Hide a password in a connection URL before logging it."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url
