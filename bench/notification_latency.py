"""Delay from a like on one API process to `notificationAdded` on another (not a test).

Starts two real uvicorn processes on an isolated database and key prefix, subscribes the post's
author on process A, then has a fan like 100 different posts through process B, one at a time
(each like opens a new notification, so each one is pushed). For every like it records the time
from sending the `likePost` request to receiving the matching WebSocket message. The first
`--warmup` likes are not counted: they pay each process's first connections and imports, as
wrk's warm-up does for the HTTP rows.

    .venv/bin/python -m bench.notification_latency [--likes 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time

import httpx
import websockets

from core.ids import to_global_id
from datastore.stores import open_stores, prepare_stores
from tests.support.factories import create_ready_post, create_user
from tests.support.isolation import drop_everything, isolated_settings
from tests.support.processes import api_server

LIKE = "mutation($id: ID!) { likePost(postId: $id) { likeCount } }"
SUBSCRIPTION = "subscription { notificationAdded { id post { id } } }"


async def measure(likes: int, warmup: int = 5) -> tuple[list[float], list[float]]:
    settings = isolated_settings(rate_limit_like="100000/hour")
    stores = open_stores(settings)
    await prepare_stores(stores)
    try:
        author, author_token = await create_user(stores, "latency_author")
        _, fan_token = await create_user(stores, "latency_fan")
        posts = [await create_ready_post(stores, author) for _ in range(warmup + likes)]
        with api_server(settings) as a, api_server(settings) as b:
            ws_url = a.replace("http", "ws") + "/graphql"
            async with (
                httpx.AsyncClient(base_url=b, timeout=30) as http,
                websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws,
            ):
                init = {"authorization": f"Bearer {author_token}"}
                await ws.send(json.dumps({"type": "connection_init", "payload": init}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                await ws.send(
                    json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
                )
                channel = stores.keys("rt", "notif", author)
                # Redis announces no subscription: poll its count until process A subscribed.
                while (await stores.redis.pubsub_numsub(channel))[0][1] < 1:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                headers = {"Authorization": f"Bearer {fan_token}"}
                delays: list[float] = []
                after_answer: list[float] = []
                for n, post_id in enumerate(posts):
                    gid = to_global_id("Post", post_id)
                    start = time.perf_counter()
                    resp = await http.post(
                        "/graphql",
                        json={"query": LIKE, "variables": {"id": gid}},
                        headers=headers,
                    )
                    answered = time.perf_counter()
                    assert not resp.json().get("errors"), resp.text
                    while True:
                        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
                        if msg["type"] == "next":
                            break
                    received = time.perf_counter()
                    assert msg["payload"]["data"]["notificationAdded"]["post"]["id"] == gid
                    if n < warmup:
                        continue
                    delays.append((received - start) * 1000)
                    # The push is published before the mutation answers, so this is often <= 0.
                    after_answer.append((received - answered) * 1000)
                return delays, after_answer
    finally:
        await stores.close()
        await drop_everything(settings)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--likes", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=5)
    args = parser.parse_args()
    delays, after_answer = asyncio.run(measure(args.likes, args.warmup))
    ordered = sorted(delays)
    print(
        f"like -> notificationAdded across processes, {len(delays)} likes: "
        f"median {statistics.median(delays):.1f} ms, "
        f"p90 {ordered[int(len(ordered) * 0.9) - 1]:.1f} ms, worst {ordered[-1]:.1f} ms; "
        f"5 worst {[round(d) for d in ordered[-5:]]}"
    )
    print(f"{args.warmup} warm-up likes not counted; first counted {delays[0]:.1f} ms")
    print(
        "message received minus mutation answered: "
        f"median {statistics.median(after_answer):.1f} ms, worst {max(after_answer):.1f} ms"
    )


if __name__ == "__main__":
    main()
