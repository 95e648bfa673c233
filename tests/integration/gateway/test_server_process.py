"""Against real uvicorn processes (two workers sharing PROMETHEUS_MULTIPROC_DIR): the WebSocket
cap holds across processes and is released on disconnect, and /metrics aggregates every worker
(operations, open connections, running subscriptions)."""

from __future__ import annotations

import asyncio
import json
import re
import time

import httpx
import redis.asyncio as aioredis
import websockets
from bson import ObjectId

from services.tokens import issue_access_token
from tests.support.processes import api_server


async def _connect(url: str, token: str):
    ws = await websockets.connect(url, subprotocols=["graphql-transport-ws"])
    await ws.send(
        json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
    )
    try:
        reply = json.loads(await asyncio.wait_for(ws.recv(), 5))
    except websockets.ConnectionClosed as closed:
        return None, closed.rcvd.code
    assert reply["type"] == "connection_ack", reply
    return ws, None


def _sample(text: str, name: str, labels: str = "") -> float:
    pattern = re.escape(name + (f"{{{labels}}}" if labels else "")) + r" ([0-9.e+-]+)"
    found = re.search(r"^" + pattern + "$", text, re.M)
    return float(found.group(1)) if found else 0.0


async def _wait_for_metric(client, name: str, expected: float) -> str:
    """Poll /metrics until `name` reads `expected`: the server releases a connection after the
    close handshake, which the client does not wait for."""
    deadline = time.monotonic() + 10
    while True:
        text = (await client.get("/metrics")).text
        if _sample(text, name) == expected or time.monotonic() > deadline:
            return text
        await asyncio.sleep(0.05)


async def test_websocket_cap_and_multiprocess_metrics(settings, tmp_path):
    env = {
        "WEB_CONCURRENCY": "2",
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path),
        "MAX_WS_CONNECTIONS_PER_USER": "2",
    }
    user = ObjectId()
    token = issue_access_token(settings, user)
    other = issue_access_token(settings, ObjectId())
    redis = aioredis.Redis.from_url(settings.redis_url, decode_responses=True)
    key = f"{settings.redis_prefix}ws:{user}"
    with api_server(settings, extra_env=env) as base:
        url = base.replace("http", "ws") + "/graphql"
        async with httpx.AsyncClient(base_url=base) as client:
            for _ in range(10):
                resp = await client.post("/graphql", json={"query": "query Clock { serverTime }"})
                assert resp.json()["data"]["serverTime"]
            # Over a real socket the client gets the 413, not a reset while still sending.
            big = b'{"query": "{ serverTime }", "pad": "' + b"x" * (5 << 20) + b'"}'
            resp = await client.post(
                "/graphql", content=big, headers={"content-type": "application/json"}
            )
            assert resp.status_code == 413
            assert resp.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
            assert (await client.post("/graphql", json={"query": "{ serverTime }"})).is_success

            a, _ = await _connect(url, token)
            b, _ = await _connect(url, token)
            refused, code = await _connect(url, token)
            assert refused is None and code == 4403
            assert await redis.zcard(key) == 2
            # Another user is not affected by this user's cap.
            c, _ = await _connect(url, other)

            await a.send(
                json.dumps(
                    {
                        "id": "s1",
                        "type": "subscribe",
                        "payload": {
                            "query": "subscription { heartbeat(count: 2, intervalMs: 60000) }"
                        },
                    }
                )
            )
            first = json.loads(await asyncio.wait_for(a.recv(), 5))
            assert first["type"] == "next"
            text = await _wait_for_metric(client, "photogram_active_subscriptions", 1)
            assert _sample(text, "photogram_active_subscriptions") == 1
            assert _sample(text, "photogram_websocket_connections") == 3
            # Both workers' requests are in the one histogram.
            assert (
                _sample(
                    text,
                    "photogram_graphql_request_duration_seconds_count",
                    'operation="Clock",type="query"',
                )
                == 10
            )

            await a.close()
            text = await _wait_for_metric(client, "photogram_websocket_connections", 2)
            assert _sample(text, "photogram_websocket_connections") == 2
            assert _sample(text, "photogram_active_subscriptions") == 0
            assert await redis.zcard(key) == 1
            # The slot is free again.
            d, _ = await _connect(url, token)
            assert d is not None
            for ws in (b, c, d):
                await ws.close()
            text = await _wait_for_metric(client, "photogram_websocket_connections", 0)
            assert _sample(text, "photogram_websocket_connections") == 0
            assert await redis.zcard(key) == 0
    await redis.aclose()
