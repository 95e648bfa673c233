"""A dependency's outage is SERVICE_UNAVAILABLE (never INTERNAL), with `dependency` and
`retryAfter`; a request that could do nothing is HTTP 503 with Retry-After; a partial result
stays 200; /readyz names the dependency within its deadline, even while one hangs."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import pytest

from tests.integration.outage.support import (
    FERRETDB,
    closed_port_url,
    private_ferretdb,
    private_redis,
    running,
)

SEARCH = 'query { searchUsers(query: "ali") { nodes { id } } }'


async def _post(http, query: str) -> tuple[int, dict, dict]:
    resp = await http.post("/graphql", json={"query": query})
    return resp.status_code, dict(resp.headers), resp.json()


async def test_redis_outage_is_service_unavailable_with_503_and_retry_after(settings):
    dead = settings.model_copy(update={"redis_url": closed_port_url()})
    async with running(dead) as (_, _gql, http):
        status, headers, body = await _post(http, SEARCH)
    assert status == 503
    assert headers["retry-after"] == "1"
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "SERVICE_UNAVAILABLE",
        "dependency": "redis",
        "retryAfter": 1,
    }
    assert error["message"].startswith("The cache service is unavailable")


async def test_partial_result_during_an_outage_stays_200(settings):
    async with running(_without_mongo(settings)) as (_, _gql, http):
        status, headers, body = await _post(
            http, 'query { serverTime user(username: "nobody") { id } }'
        )
    assert status == 200 and "retry-after" not in headers
    assert body["data"]["serverTime"] and body["data"]["user"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["SERVICE_UNAVAILABLE"]


def _without_mongo(settings):
    port = closed_port_url().rsplit(":", 1)[1].split("/")[0]
    return settings.model_copy(
        update={"mongodb_url": f"mongodb://127.0.0.1:{port}/", "mongodb_timeout_ms": 500}
    )


async def test_mongo_outage_is_service_unavailable_in_bounded_time(settings):
    async with running(_without_mongo(settings)) as (_, _gql, http):
        start = time.monotonic()
        status, headers, body = await _post(http, 'query { user(username: "nobody") { id } }')
        took = time.monotonic() - start
    assert took < 3, took
    assert status == 503 and headers["retry-after"] == "2"
    assert [e["extensions"] for e in body["errors"]] == [
        {"code": "SERVICE_UNAVAILABLE", "dependency": "mongo", "retryAfter": 2}
    ]


async def test_readyz_names_a_hung_redis_within_its_deadline(settings):
    with private_redis() as redis:
        async with running(settings.model_copy(update={"redis_url": redis.url})) as (_, _, http):
            assert (await http.get("/readyz")).status_code == 200
            os.kill(redis.proc.pid, signal.SIGSTOP)  # accepts connections, never answers
            try:
                start = time.monotonic()
                resp = await asyncio.wait_for(http.get("/readyz"), 10)
                took = time.monotonic() - start
            finally:
                os.kill(redis.proc.pid, signal.SIGCONT)
    assert resp.status_code == 503 and took < 3, (resp.status_code, took)
    body = resp.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["mongo"]["status"] == "ok"


@pytest.mark.skipif(not FERRETDB.exists(), reason="needs the FerretDB binary (make services)")
async def test_readyz_names_a_hung_mongodb_within_its_deadline(settings):
    with private_ferretdb() as mongo:
        local = settings.model_copy(update={"mongodb_url": mongo.url, "mongo_flavor": "ferretdb"})
        async with running(local) as (_, _gql, http):
            assert (await http.get("/readyz")).status_code == 200
            os.kill(mongo.proc.pid, signal.SIGSTOP)
            try:
                start = time.monotonic()
                resp = await asyncio.wait_for(http.get("/readyz"), 10)
                took = time.monotonic() - start
            finally:
                os.kill(mongo.proc.pid, signal.SIGCONT)
    assert resp.status_code == 503 and took < 3, (resp.status_code, took)
    assert resp.json()["checks"]["mongo"]["status"] == "down"
    assert resp.json()["checks"]["redis"]["status"] == "ok"
