"""`realtime-width`: one post watched live by 1,000 and then 10,000 sockets on one API process
(not a test; targets in docs/realtime.md).

Users are created directly in the database (5 sockets each, the per-user cap); the sockets are
opened by one Node process (bench/ws_clients.mjs: Node's own WebSocket, no npm package), which
timestamps every `postUpdated` it receives. Figures:
- one like at 1,000 and at 10,000 subscribers: p50/p99/max from sending `likePost` to each
  socket's message with the new count;
- likes at 50/s for 10 s (open loop, each by another user) at 10,000 subscribers: messages
  sent, and per like and socket the delay until that socket had a count at least as new
  ("latest count"), p99 and max; a starved socket is one that never got the final count;
- memory per idle subscribed socket: the API process's RSS growth over the 9,000 sockets
  opened after the first 1,000, divided by 9,000.

    .venv/bin/python -m bench.realtime_width [--subscribers 1000,10000] [--rate 50 --seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import time
from pathlib import Path
from typing import Any

import httpx

from bench import procs
from core.ids import to_global_id
from datastore.stores import open_stores, prepare_stores
from tests.support.factories import create_ready_post, create_user
from tests.support.isolation import drop_everything, isolated_settings

CLIENT = Path(__file__).with_name("ws_clients.mjs")
PER_USER = 5
LIKE = "mutation($id: ID!) { likePost(postId: $id) { likeCount } }"
QUERY = (
    "subscription($id: ID!) { postUpdated(postId: $id) { id likeCount commentCount shareCount } }"
)


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


class Clients:
    """The Node client process, driven by JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    @classmethod
    async def start(cls) -> Clients:
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is needed for the realtime-width clients")
        proc = await asyncio.create_subprocess_exec(
            node,
            "--experimental-websocket",
            "--max-old-space-size=4096",
            str(CLIENT),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            limit=1 << 24,
        )
        return cls(proc)

    async def ask(self, **cmd: Any) -> dict:
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), 600)
        if not line:
            raise RuntimeError("the Node clients exited")
        return json.loads(line)

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self.ask(cmd="exit"), 30)
        except Exception:
            self.proc.kill()
        await self.proc.wait()


async def _users(stores, prefix: str, n: int) -> list[str]:
    tokens: list[str] = []
    for start in range(0, n, 200):
        batch = await asyncio.gather(
            *(create_user(stores, f"{prefix}{i}") for i in range(start, min(n, start + 200)))
        )
        tokens += [t for _, t in batch]
    return tokens


async def _like(
    http: httpx.AsyncClient, pid: str, token: str, answered: list[float] | None = None
) -> tuple[int, float]:
    """(like count after it, wall-clock ms when it was sent); `answered` gets its response
    time in ms."""
    sent = time.time() * 1000
    r = await http.post(
        "/graphql",
        json={"query": LIKE, "variables": {"id": pid}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = r.json()
    assert not body.get("errors"), body
    if answered is not None:
        answered.append(time.time() * 1000 - sent)
    return int(body["data"]["likePost"]["likeCount"]), sent


async def run(subscribers: list[int], rate: int, seconds: float) -> dict[str, Any]:
    settings = isolated_settings(rate_limit_like="1000000/hour")
    settings.cost_bucket_capacity = 0
    stores = open_stores(settings)
    await prepare_stores(stores)
    out: dict[str, Any] = {"subscribers": {}, "per_user_sockets": PER_USER}
    try:
        author, _ = await create_user(stores, "rw_author")
        pid = to_global_id("Post", await create_ready_post(stores, author))
        most = max(subscribers)
        watchers = await _users(stores, "rw_watch", -(-most // PER_USER))
        likers = await _users(stores, "rw_like", int(rate * seconds) + len(subscribers) + 5)
        with procs.api_server(settings, workers=1) as server:
            pid_api = (server.worker_pids() or [server.proc.pid])[0]
            ws_url = server.url.replace("http", "ws") + "/graphql"
            clients = await Clients.start()
            try:
                async with httpx.AsyncClient(
                    base_url=server.url, timeout=30, limits=httpx.Limits(max_connections=100)
                ) as http:
                    await _like(http, pid, likers.pop())  # warm: first request's imports
                    opened = 0
                    rss_at: dict[int, float] = {}
                    for n in sorted(subscribers):
                        need = -(-(n - opened) // PER_USER)
                        tokens, watchers = watchers[:need], watchers[need:]
                        res = await clients.ask(
                            cmd="open",
                            url=ws_url,
                            tokens=tokens,
                            perToken=PER_USER,
                            query=QUERY,
                            variables={"id": pid},
                        )
                        opened = res["open"]
                        await asyncio.sleep(2)  # let the process settle before reading RSS
                        rss_at[opened] = rss_mb(pid_api)
                        await clients.ask(cmd="clear")
                        count, sent = await _like(http, pid, likers.pop())
                        one = await clients.ask(cmd="wait", count=count, t0=sent, timeout=60)
                        out["subscribers"][str(opened)] = {
                            "open_s": round(res["ms"] / 1000, 1),
                            "failed": res["failed"],
                            "rss_mb": round(rss_at[opened], 1),
                            "one_like": one,
                        }
                        print(f"  {opened} subscribers: {out['subscribers'][str(opened)]}")
                    if len(rss_at) >= 2:
                        (n0, r0), (n1, r1) = (
                            sorted(rss_at.items())[:1] + sorted(rss_at.items())[-1:]
                        )
                        out["kb_per_socket"] = round((r1 - r0) * 1024 / (n1 - n0), 1)
                    # Likes at `rate`/s, open loop: each sent on time whatever the others do.
                    await clients.ask(cmd="clear")
                    start = time.monotonic()
                    tasks = []
                    answered: list[float] = []
                    for i in range(int(rate * seconds)):
                        await asyncio.sleep(max(0.0, start + i / rate - time.monotonic()))
                        tasks.append(asyncio.create_task(_like(http, pid, likers.pop(), answered)))
                    sent_over = time.monotonic() - start
                    likes = await asyncio.gather(*tasks)
                    answered.sort()
                    burst = await clients.ask(cmd="delays", likes=likes, timeout=60)
                    burst.update(
                        likes=len(likes),
                        sent_over_s=round(sent_over, 2),
                        last_answer_s=round(time.monotonic() - start, 2),
                        like_answer_p50_ms=round(answered[len(answered) // 2]),
                        like_answer_p99_ms=round(answered[int(len(answered) * 0.99) - 1]),
                        messages_per_socket=round(burst["messages"] / max(1, burst["sockets"]), 1),
                    )
                    out["burst"] = burst
                    out["rss_end_mb"] = round(rss_mb(pid_api), 1)
                    print(f"  {rate}/s for {seconds:g} s: {burst}")
            finally:
                await clients.stop()
    finally:
        await stores.close()
        await drop_everything(settings)
    return out


def _ok(value: float | None, limit: float) -> str:
    return "" if value is None else ("yes" if value < limit else "**no**")


def markdown(res: dict | None) -> list[str]:
    """The report's `realtime-width` section (bench/report.py)."""
    if not res:
        return []
    out = [
        "## Realtime width: one post, many live subscribers, one API process",
        "",
        f"`postUpdated {{ id likeCount commentCount shareCount }}`, {res['per_user_sockets']}"
        " sockets per user, clients in one Node process (bench/realtime_width.py).",
        "",
        "| subscribers | one like: p50 ms | p99 ms | max ms | missing | API RSS MB | p99 < 1 s |",
        "|---|---|---|---|---|---|---|",
    ]
    for n, row in res["subscribers"].items():
        one = row["one_like"]
        out.append(
            f"| {int(n):,} | {one['p50_ms']} | {one['p99_ms']} | {one['max_ms']} | "
            f"{one['missing']} | {row['rss_mb']} | {_ok(one['p99_ms'], 1000)} |"
        )
    burst = res.get("burst")
    if burst:
        rate = burst["likes"] / max(burst["sent_over_s"], 0.01)
        out += [
            "",
            f"{burst['likes']} likes sent at {rate:.0f}/s"
            f" (open loop, over {burst['sent_over_s']} s"
            + (
                f"; likePost answered p50 {burst['like_answer_p50_ms']} ms, p99 "
                f"{burst['like_answer_p99_ms']} ms, the last after {burst['last_answer_s']} s"
                if "last_answer_s" in burst
                else ""
            )
            + f") to {burst['sockets']:,} subscribers: {burst['messages']:,} messages sent "
            f"({burst['messages_per_socket']} per socket); delay of the latest count "
            f"p50 {burst['p50_ms']} ms, p99 {burst['p99_ms']} ms "
            f"({_ok(burst['p99_ms'], 1000)} under 1 s), max {burst['max_ms']} ms; "
            f"starved sockets: {burst['starved']}.",
        ]
    if "kb_per_socket" in res:
        kb = res["kb_per_socket"]
        out += ["", f"Memory per idle subscribed socket: {kb} KB ({_ok(kb, 50)} under 50 KB)."]
    return [*out, ""]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.realtime_width")
    parser.add_argument("--subscribers", default="1000,10000")
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--write", action="store_true", help="to bench/results/realtime-width-*")
    args = parser.parse_args()
    subs = [int(x) for x in args.subscribers.split(",")]
    res = asyncio.run(run(subs, args.rate, args.seconds))
    print(json.dumps(res))
    if args.write:
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        res["loadavg"] = Path("/proc/loadavg").read_text().split()[:3]
        base = Path(__file__).with_name("results") / f"realtime-width-{stamp}"
        base.with_suffix(".json").write_text(json.dumps(res, indent=2) + "\n")
        md = [*markdown(res), f"Load average at the end: {' '.join(res['loadavg'])}.", ""]
        base.with_suffix(".md").write_text("\n".join(md))
        print(base.with_suffix(".md"))


if __name__ == "__main__":
    main()
