import asyncio
import json

import httpx
import websockets

from services.tokens import issue_access_token
from tests.support.processes import api_server


async def test_query_through_the_asgi_app(gql):
    body = await gql("{ serverTime }")
    assert body.ok()["serverTime"].endswith("+00:00")


async def test_get_request_runs_a_query(http):
    resp = await http.get("/graphql", params={"query": "{ serverTime }"})
    assert resp.status_code == 200
    assert "serverTime" in resp.json()["data"]


async def test_invalid_query_has_a_code(gql):
    body = await gql("{ serverTimez }")
    assert body.codes == ["GRAPHQL_VALIDATION_FAILED"]


async def test_response_carries_a_request_id(http):
    resp = await http.post("/graphql", json={"query": "{ serverTime }"})
    assert len(resp.headers["x-request-id"]) >= 8
    resp = await http.post(
        "/graphql", json={"query": "{ serverTime }"}, headers={"X-Request-Id": "client-chosen-id-1"}
    )
    assert resp.headers["x-request-id"] == "client-chosen-id-1"


async def _subscribe(url: str, init_payload: dict | None, query: str) -> list[dict]:
    """Run one subscription with the graphql-transport-ws protocol; return the messages."""
    messages = []
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": init_payload or {}}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert ack["type"] == "connection_ack", ack
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
        while True:
            msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
            messages.append(msg)
            if msg["type"] in ("complete", "error"):
                return messages


async def test_query_and_subscription_through_a_real_uvicorn_process(settings):
    token = issue_access_token(settings, __import__("bson").ObjectId())
    with api_server(settings) as base:
        async with httpx.AsyncClient(base_url=base) as client:
            resp = await client.post("/graphql", json={"query": "{ serverTime }"})
            assert resp.status_code == 200 and resp.json()["data"]["serverTime"]

        ws_url = base.replace("http", "ws") + "/graphql"
        msgs = await _subscribe(
            ws_url,
            {"authorization": f"Bearer {token}"},
            "subscription { heartbeat(count: 3, intervalMs: 20) }",
        )
        nexts = [m for m in msgs if m["type"] == "next"]
        assert len(nexts) == 3
        assert msgs[-1]["type"] == "complete"

        # A bad or missing token is refused at connection_init (close code 4403).
        for payload in ({"authorization": "Bearer not-a-jwt"}, {}):
            async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
                try:
                    await asyncio.wait_for(ws.recv(), 5)
                    raise AssertionError("connection was acknowledged")
                except websockets.ConnectionClosed as closed:
                    assert closed.rcvd.code == 4403
