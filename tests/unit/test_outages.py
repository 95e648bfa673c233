"""Which exceptions are outages, and when a response is an HTTP 503 (pure logic)."""

from __future__ import annotations

import pytest
import urllib3.exceptions
from pymongo.errors import (
    AutoReconnect,
    DuplicateKeyError,
    NetworkTimeout,
    ServerSelectionTimeoutError,
)
from redis.exceptions import BusyLoadingError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from datastore.outages import as_service_unavailable, dependency_of
from gateway.response_status import outage_retry_after


@pytest.mark.parametrize(
    ("exc", "dependency"),
    [
        (RedisConnectionError("refused"), "redis"),
        (RedisTimeoutError("timed out"), "redis"),
        (BusyLoadingError("Redis is loading the dataset in memory"), "redis"),
        (AutoReconnect("connection closed"), "mongo"),
        (NetworkTimeout("timed out"), "mongo"),
        (ServerSelectionTimeoutError("no servers"), "mongo"),
        (urllib3.exceptions.MaxRetryError(None, "/", "refused"), "storage"),
        (urllib3.exceptions.ProtocolError("reset"), "storage"),
        (ResponseError("WRONGTYPE"), None),  # Redis answered: a bug, not an outage
        (DuplicateKeyError("E11000"), None),
        (ValueError("bug"), None),
    ],
)
def test_outages_are_named_by_exception_class(exc: BaseException, dependency: str | None):
    assert dependency_of(exc) == dependency
    mapped = as_service_unavailable(exc)
    if dependency is None:
        assert mapped is None
    else:
        assert mapped is not None and mapped.code == "SERVICE_UNAVAILABLE"
        assert mapped.extensions["dependency"] == dependency
        assert mapped.extensions["retryAfter"] >= 1
        assert "127.0.0.1" not in mapped.message


def _err(code: str, retry: int | None = None) -> dict:
    ext: dict = {"code": code}
    if retry is not None:
        ext["retryAfter"] = retry
    return {"message": "x", "extensions": ext}


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        ({"data": None, "errors": [_err("SERVICE_UNAVAILABLE", 2)]}, 2),
        ({"data": {"a": None, "b": None}, "errors": [_err("SERVICE_UNAVAILABLE", 1)]}, 1),
        (
            {
                "data": None,
                "errors": [_err("SERVICE_UNAVAILABLE", 1), _err("SERVICE_UNAVAILABLE", 2)],
            },
            2,
        ),
        ({"data": {"a": 1, "b": None}, "errors": [_err("SERVICE_UNAVAILABLE", 1)]}, None),
        ({"data": None, "errors": [_err("BAD_USER_INPUT")]}, None),
        ({"data": {"a": 1}}, None),
        ([{"data": None, "errors": [_err("SERVICE_UNAVAILABLE", 1)]}], None),  # a batch
    ],
)
def test_only_a_request_that_could_do_nothing_is_a_503(response: object, expected: int | None):
    assert outage_retry_after(response) == expected


def test_an_error_from_a_lost_database_makes_the_indexes_be_checked_again():
    from types import SimpleNamespace

    from graphql import GraphQLError

    from datastore.index_readiness import IndexReadiness
    from gateway.errors import ErrorCodes

    indexes = IndexReadiness()
    indexes.ready = True
    extension = ErrorCodes()
    extension.execution_context = SimpleNamespace(  # type: ignore[assignment]
        context=SimpleNamespace(stores=SimpleNamespace(indexes=indexes))
    )
    redis_down = GraphQLError("x", original_error=RedisConnectionError("refused"))
    [error] = extension._process_errors([redis_down])
    assert error.extensions["code"] == "SERVICE_UNAVAILABLE" and indexes.ready
    mongo_down = GraphQLError("x", original_error=AutoReconnect("connection closed"))
    [error] = extension._process_errors([mongo_down])
    assert error.extensions["dependency"] == "mongo" and not indexes.ready
