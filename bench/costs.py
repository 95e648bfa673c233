"""In-process measurements on the bench dataset: what one request costs (MongoDB commands,
Redis round trips; datastore/instrumentation.py) for feed pages (first, deep, RANKED new and
reused snapshots, RANKED page 2), a profile, a post with comments and searchUsers, and where a
feed page's time goes (phase timers without a profiler, then cProfile's top functions)."""

from __future__ import annotations

import cProfile
import inspect
import io
import logging
import pstats
import statistics
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import numpy as np

from app import create_app
from bench import workloads
from bench.dataset import Dataset
from core.settings import Settings
from datastore.instrumentation import (
    MongoCommandCounter,
    RedisRoundTrips,
    counting_connection_class,
)

Requests = list[tuple[str, dict]]
Sample = tuple[int, int, Counter]  # MongoDB commands, Redis round trips, commands by name


@asynccontextmanager
async def in_process(settings: Settings, **store_options: Any):
    # The server runs with LOG_LEVEL=WARNING; importing `app` configured INFO for this process.
    logging.getLogger().setLevel(logging.WARNING)
    application = create_app(settings, **store_options)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            yield application, http


async def _post(http: httpx.AsyncClient, tok: str, body: dict) -> dict:
    r = await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {tok}"})
    data = r.json()
    if data.get("errors"):
        raise RuntimeError(str(data["errors"])[:500])
    return data


class _Meter:
    """Sends requests through the in-process app; `counted` counts one (after an optional
    uncounted `before` step) and keeps (MongoDB commands, Redis round trips, commands by name)."""

    def __init__(
        self, http: httpx.AsyncClient, mongo: MongoCommandCounter, redis: RedisRoundTrips
    ) -> None:
        self.http, self.mongo, self.redis = http, mongo, redis

    async def send(self, tok: str, body: dict) -> dict:
        return await _post(self.http, tok, body)

    async def counted(
        self,
        tok: str,
        body: dict,
        samples: list[Sample],
        before: Callable[[], Awaitable[Any]] | None = None,
    ) -> dict:
        if before is not None:
            await before()
        self.mongo.reset()
        self.redis.reset()
        data = await _post(self.http, tok, body)
        samples.append((self.mongo.total, self.redis.total, Counter(self.mongo.commands)))
        return data

    async def warm_then_counted(self, reqs: Requests) -> dict:
        """Each request sent twice, the second one counted (the first warms per-viewer state:
        activity throttle, rebuild checks, caches)."""
        samples: list[Sample] = []
        for tok, body in reqs:
            await self.send(tok, body)
            await self.counted(tok, body, samples)
        return summarize(samples)


def summarize(samples: list[Sample]) -> dict:
    if not samples:
        return {"requests": 0, "error": "no request to measure"}
    per_mongo = [m for m, _, _ in samples]
    per_redis = [r for _, r, _ in samples]
    commands: Counter[str] = Counter()
    for _, _, c in samples:
        commands.update(c)
    return {
        "requests": len(samples),
        "mongo_commands_mean": round(statistics.mean(per_mongo), 2),
        "mongo_commands_max": max(per_mongo),
        "redis_round_trips_mean": round(statistics.mean(per_redis), 2),
        "redis_round_trips_max": max(per_redis),
        "mongo_by_command": {k: round(v / len(samples), 2) for k, v in commands.items()},
    }


@asynccontextmanager
async def _metered(settings: Settings):
    mongo, redis = MongoCommandCounter(), RedisRoundTrips()
    async with in_process(
        settings, mongo_listeners=[mongo], redis_connection_class=counting_connection_class(redis)
    ) as (application, http):
        yield application, _Meter(http, mongo, redis)


async def cost_per_request(settings: Settings, reqs: Requests, n: int = 40) -> dict:
    """Mean MongoDB commands and Redis round trips per request, each request sent twice and the
    second one counted (the first warms per-viewer state: activity throttle, rebuild checks)."""
    async with _metered(settings) as (_, meter):
        return await meter.warm_then_counted(reqs[:n])


def search_shapes(
    settings: Settings, ds: Dataset, viewers: list[int], n: int
) -> dict[str, Requests]:
    """searchUsers (workloads.SEARCH_USERS) by query shape, for users picked from the seed: the
    2- and 3-letter prefix path, the ZRANGEBYLEX path (4+ characters), the exact-username tier
    and a two-word query (every word checked)."""
    from bench.dataset import user_doc

    rng = np.random.default_rng(ds.seed + 31)
    users = rng.choice(ds.scale.users, size=min(n, ds.scale.users), replace=False).tolist()
    toks = workloads.tokens(settings, ds, viewers[: len(users)] or viewers[:1])
    shapes: dict[str, list[str]] = {
        "2-3 letters of a name word": [],
        "username prefix, 4+ characters": [],
        "whole username": [],
        "full name, two words": [],
    }
    for k, u in enumerate(users):
        name, full = ds.usernames[u], user_doc(ds, u)["full_name"]
        word = full.split()[0]
        shapes["2-3 letters of a name word"].append(word[: 2 + k % 2])
        shapes["username prefix, 4+ characters"].append(
            name[: int(rng.integers(4, len(name)))] if len(name) > 4 else name
        )
        shapes["whole username"].append(name)
        shapes["full name, two words"].append(full)
    return {
        label: [
            (toks[k % len(toks)], {"query": workloads.SEARCH_USERS, "variables": {"q": q}})
            for k, q in enumerate(qs)
        ]
        for label, qs in shapes.items()
    }


async def request_costs(
    settings: Settings, ds: Dataset, viewers: list[int], n: int = 20, search: bool = True
) -> dict[str, dict]:
    """Costs of the other operations the HTTP rows send, each request measured warm (after one
    uncounted request) in one in-process app:

    - RECENT page 6: cursors from paging five pages in-process, then warm + counted;
    - RANKED first page, new snapshot: a warm request, then the viewer's `ranked_latest`
      pointer (feed/keys.py) deleted (uncounted) so the counted first page ranks a new window;
    - RANKED first page again: right after, it reuses that snapshot (RANKED_REUSE_SECONDS);
    - RANKED page 2: that page's endCursor, warm + counted;
    - profile, post + comments, searchUsers: the HTTP rows' own request lists (the first n),
      and searchUsers by query shape (search_shapes)."""
    from feed.keys import FeedKeys

    out: dict[str, dict] = {}
    async with _metered(settings) as (application, meter):
        keys = FeedKeys(application.state.stores)
        redis = application.state.stores.redis

        # RECENT page 6 for the first n viewers that have one.
        pool = viewers[: n * 4]
        after: dict[int, str] = {}
        for v, (tok, body) in zip(pool, workloads.feed_requests(settings, ds, pool), strict=True):
            cursor = await _cursor_after(meter, tok, body, pages=5)
            if cursor is not None:
                after[v] = cursor
            if len(after) >= n:
                break
        out["feed RECENT page 6, ordinary"] = await meter.warm_then_counted(
            workloads.feed_requests(settings, ds, list(after), after=after)
        )

        new: list[Sample] = []
        again: list[Sample] = []
        second: list[Sample] = []
        picked = viewers[:n]
        ranked = workloads.feed_requests(settings, ds, picked, order="RANKED")
        for v, (tok, body) in zip(picked, ranked, strict=True):
            pointer = keys.ranked_latest(ds.user_ids[v])
            await meter.send(tok, body)
            await meter.counted(tok, body, new, before=lambda p=pointer: redis.delete(p))
            data = await meter.counted(tok, body, again)
            info = data["data"]["feed"]["pageInfo"]
            if info["hasNextPage"]:
                page2 = {**body, "variables": {**body["variables"], "after": info["endCursor"]}}
                await meter.send(tok, page2)
                await meter.counted(tok, page2, second)
        out["feed RANKED first page, new snapshot, ordinary"] = summarize(new)
        out["feed RANKED first page again (reusing it), ordinary"] = summarize(again)
        out["feed RANKED page 2, ordinary"] = summarize(second)

        out["profile: user(username) + posts(first: 12)"] = await meter.warm_then_counted(
            workloads.profile_requests(settings, ds, viewers)[:n]
        )
        out["post + comments(first: 20)"] = await meter.warm_then_counted(
            workloads.post_requests(settings, ds, viewers)[:n]
        )
        if search:
            out["searchUsers(first: 20), the HTTP row's mix"] = await meter.warm_then_counted(
                workloads.search_requests(settings, ds, viewers)[:n]
            )
            for label, reqs in search_shapes(settings, ds, viewers, n).items():
                out[f"searchUsers(first: 20), {label}"] = await meter.warm_then_counted(reqs)
    return out


async def _cursor_after(meter: _Meter, tok: str, body: dict, pages: int) -> str | None:
    """The endCursor after `pages` pages of this feed request, or None if it has fewer."""
    after = None
    for _ in range(pages):
        data = await meter.send(tok, {**body, "variables": {**body["variables"], "after": after}})
        info = data["data"]["feed"]["pageInfo"]
        if not info["hasNextPage"]:
            return None
        after = info["endCursor"]
    return after


class _Timer:
    def __init__(self) -> None:
        self.total = 0.0
        self.calls = 0

    def wrap_async(self, fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - t
                self.calls += 1

        return timed

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.total += time.perf_counter() - t
                self.calls += 1

        return timed


def _wrap_maybe_async(timer: _Timer, fn: Callable[..., Any]) -> Callable[..., Any]:
    """Time `fn` until its result is ready, awaitable or not (graphql-core's `execute`
    returns a coroutine only when some resolver is async)."""

    def timed(*args: Any, **kwargs: Any) -> Any:
        t = time.perf_counter()
        result = fn(*args, **kwargs)
        if not inspect.isawaitable(result):
            timer.total += time.perf_counter() - t
            timer.calls += 1
            return result

        async def finish() -> Any:
            try:
                return await result
            finally:
                timer.total += time.perf_counter() - t
                timer.calls += 1

        return finish()

    return timed


async def phases(settings: Settings, reqs: Requests, rounds: int = 3) -> dict:
    """Per feed request (sequential, in-process, no profiler), nested timers around what the
    app runs: the whole request through the ASGI app; Strawberry's `Schema.execute` (parse and
    validation caches, the gateway's extensions with the cost bucket, then execution);
    graphql-core's `execute` with the compiled executor (the plan and every resolver); inside
    it the feed reader (the page's one Redis script call and decoding its documents) and
    presigning media URLs; and the view's JSON encoding of the response. Each phase is
    reported without the phases nested in it."""
    import strawberry.schema.schema as strawberry_schema

    from datastore.objects import ObjectStore
    from feed.reader import FeedReader
    from gateway.view import GatewayGraphQL

    timers = {k: _Timer() for k in ("schema", "execute", "reader", "presign", "json")}
    saved = (
        strawberry_schema.Schema.execute,
        strawberry_schema.execute,
        FeedReader.recent,
        ObjectStore.presigned_get,
        GatewayGraphQL.encode_json,
    )
    strawberry_schema.Schema.execute = timers["schema"].wrap_async(saved[0])  # type: ignore[method-assign]
    strawberry_schema.execute = _wrap_maybe_async(timers["execute"], saved[1])  # type: ignore[assignment]
    FeedReader.recent = timers["reader"].wrap_async(saved[2])  # type: ignore[method-assign]
    ObjectStore.presigned_get = timers["presign"].wrap(saved[3])  # type: ignore[method-assign]
    GatewayGraphQL.encode_json = timers["json"].wrap(saved[4])  # type: ignore[method-assign]
    try:
        async with in_process(settings) as (_, http):
            for tok, body in reqs:  # warm
                await _post(http, tok, body)
            for t in timers.values():
                t.total, t.calls = 0.0, 0
            n = 0
            started = time.perf_counter()
            for _ in range(rounds):
                for tok, body in reqs:
                    await _post(http, tok, body)
                    n += 1
            total = time.perf_counter() - started
    finally:
        (
            strawberry_schema.Schema.execute,
            strawberry_schema.execute,
            FeedReader.recent,
            ObjectStore.presigned_get,
            GatewayGraphQL.encode_json,
        ) = saved  # type: ignore[method-assign, assignment]
    per = {k: t.total / n * 1000 for k, t in timers.items()}
    total_ms = total / n * 1000
    return {
        "requests": n,
        "total_ms": round(total_ms, 2),
        "http_asgi_ms": round(total_ms - per["schema"] - per["json"], 2),
        "parse_validate_extensions_ms": round(per["schema"] - per["execute"], 2),
        "execution_ms": round(per["execute"] - per["reader"] - per["presign"], 2),
        "feed_reader_ms": round(per["reader"], 2),
        "presign_ms": round(per["presign"], 2),
        "presign_calls_per_request": round(timers["presign"].calls / n, 1),
        "json_encode_ms": round(per["json"], 2),
    }


async def profile(settings: Settings, reqs: Requests, top: int = 25) -> dict:
    """cProfile over the given requests (after a warm-up pass): the top functions by own time
    and the cumulative time of the functions that mark each phase."""
    async with in_process(settings) as (_, http):
        for tok, body in reqs:
            await _post(http, tok, body)
        prof = cProfile.Profile()
        started = time.perf_counter()
        prof.enable()
        for tok, body in reqs:
            await _post(http, tok, body)
        prof.disable()
        wall = time.perf_counter() - started
    stats = pstats.Stats(prof)
    n = len(reqs)
    rows = []
    for (file, line, name), (_cc, nc, tt, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append(
            {
                "function": f"{_short(file)}:{line}({name})",
                "calls_per_request": round(nc / n, 1),
                "own_ms_per_request": round(tt / n * 1000, 3),
                "cumulative_ms_per_request": round(ct / n * 1000, 3),
            }
        )
    by_own = sorted(rows, key=lambda r: -r["own_ms_per_request"])[:top]
    markers = {
        "strawberry execute": ("strawberry/schema/schema.py", "execute"),
        "graphql-core execute": ("graphql/execution/execute.py", "execute_operation"),
        "feed reader (RECENT)": ("feed/reader.py", "recent"),
        "document cache get_many": ("datastore/doc_cache.py", "get_many"),
        "presigned URL": ("datastore/objects.py", "presigned_get"),
        "JSON encode": ("gateway/view.py", "encode_json"),
        "parse/validate": ("strawberry/schema/schema.py", "_parse_and_validate"),
        "JWT decode": ("services/tokens.py", "decode_access_token"),
        "touch activity": ("services/touch_activity.py", "touch_activity"),
    }
    cumulative = {}
    for label, (path, name) in markers.items():
        hits = [
            ct
            for (file, _line, fname), (_cc, _nc, _tt, ct, _) in stats.stats.items()  # type: ignore[attr-defined]
            if fname == name and file.endswith(path)
        ]
        if hits:
            cumulative[label] = round(max(hits) / n * 1000, 2)
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(top)
    return {
        "requests": n,
        "wall_ms_per_request_profiled": round(wall / n * 1000, 2),
        "cumulative_ms_per_request": cumulative,
        "top_own_time": by_own,
        "text": buf.getvalue()[-6000:],
    }


def _short(path: str) -> str:
    for marker in ("site-packages/", "/work/main/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path
