"""Which driver exceptions mean "a dependency is down", in one place.

A dropped connection, a timeout or a server still loading its data is an outage, not a bug:
callers that can do without the dependency catch `REDIS_OUTAGE` / `MONGO_OUTAGE` and degrade;
everything else leaves through the GraphQL layer, which turns the exception into
SERVICE_UNAVAILABLE with `as_service_unavailable` instead of masking it as INTERNAL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import urllib3.exceptions
from pymongo.errors import ConnectionFailure, ExecutionTimeout
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import Dependency, ServiceUnavailable

# BusyLoadingError (Redis replaying its AOF after a restart) subclasses ConnectionError.
REDIS_OUTAGE: tuple[type[BaseException], ...] = (RedisConnectionError, RedisTimeoutError)
# ConnectionFailure covers AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError and
# WaitQueueTimeoutError.
MONGO_OUTAGE: tuple[type[BaseException], ...] = (ConnectionFailure, ExecutionTimeout)
# MinIO's SDK raises urllib3's errors once its (short) retries are spent.
STORAGE_OUTAGE: tuple[type[BaseException], ...] = (
    urllib3.exceptions.MaxRetryError,
    urllib3.exceptions.NewConnectionError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.TimeoutError,
)

# Seconds a client should wait before retrying: a Redis restart with its AOF, or a FerretDB
# restart, takes about this long locally.
RETRY_AFTER: dict[Dependency, int] = {"redis": 1, "mongo": 2, "storage": 2}

_MESSAGES: dict[Dependency, str] = {
    "redis": "The cache service is unavailable; try again shortly",
    "mongo": "The database is unavailable; try again shortly",
    "storage": "The media storage is unavailable; try again shortly",
}


def dependency_of(exc: BaseException) -> Dependency | None:
    """The dependency whose outage `exc` reports, or None when it is something else."""
    if isinstance(exc, ServiceUnavailable):
        return exc.dependency
    if isinstance(exc, REDIS_OUTAGE):
        return "redis"
    if isinstance(exc, MONGO_OUTAGE):
        return "mongo"
    if isinstance(exc, STORAGE_OUTAGE):
        return "storage"
    return None


def unavailable(dependency: Dependency) -> ServiceUnavailable:
    return ServiceUnavailable(
        _MESSAGES[dependency], dependency=dependency, retry_after=RETRY_AFTER[dependency]
    )


def as_service_unavailable(exc: BaseException) -> ServiceUnavailable | None:
    """`exc` as the client sees it when it reports an outage; None for anything else."""
    if isinstance(exc, ServiceUnavailable):
        return exc
    dependency = dependency_of(exc)
    return None if dependency is None else unavailable(dependency)


# The reads of the current request that Redis could not serve and MongoDB did: a set the
# gateway opens per operation (`collect_degraded`) and reports in `extensions.degraded`. A
# mutable set in the variable, so reads in tasks the request spawns (gathers) add to it too.
_DEGRADED: ContextVar[set[str] | None] = ContextVar("photogram_degraded_reads", default=None)


def note_degraded(read: str) -> None:
    """Record that `read` ("post", "comments", ...) was served from MongoDB without Redis."""
    reads = _DEGRADED.get()
    if reads is not None:
        reads.add(read)


@contextmanager
def collect_degraded() -> Iterator[set[str]]:
    reads: set[str] = set()
    token = _DEGRADED.set(reads)
    try:
        yield reads
    finally:
        _DEGRADED.reset(token)
