"""Hostile requests sent concurrently with normal traffic: each hostile one is refused with a
clear code and every normal one still succeeds."""

from __future__ import annotations

import asyncio

from tests.integration.gateway.support import RESOLVED, nested_followers

DEEP = "{ gwPerson { " + "followers(first: 1) { nodes { " * 50 + "name" + " } }" * 50 + " } }"
ALIASES = "{ " + " ".join(f"a{i}: serverTime" for i in range(10_000)) + " }"


async def test_hostile_requests_are_refused_while_others_are_served(make_client):
    gw = await make_client()
    http = gw.http
    RESOLVED["count"] = 0

    async def hostile() -> dict[str, tuple[int, str]]:
        calls = {
            "deep": http.post("/graphql", json={"query": DEEP}),
            "aliases": http.post("/graphql", json={"query": ALIASES}),
            "body": http.post(
                "/graphql", json={"query": "{ serverTime }", "pad": "x" * (5 * 1024 * 1024)}
            ),
            "batch": http.post("/graphql", json=[{"query": "{ serverTime }"}] * 1000),
            "bomb": http.post("/graphql", json={"query": nested_followers(3, first=50)}),
        }
        responses = await asyncio.gather(*calls.values())
        return {
            name: (resp.status_code, resp.json()["errors"][0]["extensions"]["code"])
            for name, resp in zip(calls, responses, strict=True)
        }

    normal = [gw("query Clock { serverTime }") for _ in range(20)]
    refused, *served = await asyncio.gather(hostile(), *normal)

    assert refused == {
        "deep": (200, "QUERY_TOO_COMPLEX"),
        "aliases": (200, "QUERY_TOO_COMPLEX"),
        "body": (413, "PAYLOAD_TOO_LARGE"),
        "batch": (400, "BATCH_TOO_LARGE"),
        "bomb": (200, "QUERY_TOO_COSTLY"),
    }
    assert all(body.ok()["serverTime"] for body in served)
    # None of the refused queries reached a resolver.
    assert RESOLVED["count"] == 0
