"""In-process measurements on the bench dataset: what one feed page costs (MongoDB commands,
Redis round trips; datastore/instrumentation.py) and where its time goes (phase timers without
a profiler, then cProfile's top functions)."""

from __future__ import annotations

import cProfile
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

from app import create_app
from core.settings import Settings
from datastore.instrumentation import (
    MongoCommandCounter,
    RedisRoundTrips,
    counting_connection_class,
)

Requests = list[tuple[str, dict]]


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


async def cost_per_request(settings: Settings, reqs: Requests, n: int = 40) -> dict:
    """Mean MongoDB commands and Redis round trips per request, each request sent twice and the
    second one counted (the first warms per-viewer state: activity throttle, rebuild checks)."""
    mongo, redis = MongoCommandCounter(), RedisRoundTrips()
    per_mongo: list[int] = []
    per_redis: list[int] = []
    commands: Counter[str] = Counter()
    async with in_process(
        settings, mongo_listeners=[mongo], redis_connection_class=counting_connection_class(redis)
    ) as (_, http):
        for tok, body in reqs[:n]:
            await _post(http, tok, body)
            mongo.reset()
            redis.reset()
            await _post(http, tok, body)
            per_mongo.append(mongo.total)
            per_redis.append(redis.total)
            commands.update(mongo.commands)
    return {
        "requests": len(per_mongo),
        "mongo_commands_mean": round(statistics.mean(per_mongo), 2),
        "mongo_commands_max": max(per_mongo),
        "redis_round_trips_mean": round(statistics.mean(per_redis), 2),
        "redis_round_trips_max": max(per_redis),
        "mongo_by_command": {k: round(v / len(per_mongo), 2) for k, v in commands.items()},
    }


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


async def phases(settings: Settings, reqs: Requests, rounds: int = 3) -> dict:
    """Per feed request (sequential, in-process, no profiler): total time through the ASGI app,
    time in the feed reader (Redis + document cache: the page's data access), in the author
    loader's document-cache reads, in presigning media URLs, in JSON encoding of the response,
    and the rest (Strawberry parsing/validation/execution, extensions, middleware)."""
    import strawberry.http.base as http_base

    from datastore.doc_cache import DocCache
    from datastore.objects import ObjectStore
    from feed.reader import FeedReader

    timers = {k: _Timer() for k in ("reader", "doc_cache", "presign", "json")}
    saved = (
        FeedReader.recent,
        FeedReader.ranked,
        DocCache.get_many,
        ObjectStore.presigned_get,
        http_base.BaseView.encode_json,
    )
    FeedReader.recent = timers["reader"].wrap_async(FeedReader.recent)  # type: ignore[method-assign]
    DocCache.get_many = timers["doc_cache"].wrap_async(DocCache.get_many)  # type: ignore[method-assign]
    ObjectStore.presigned_get = timers["presign"].wrap(ObjectStore.presigned_get)  # type: ignore[method-assign]
    http_base.BaseView.encode_json = timers["json"].wrap(http_base.BaseView.encode_json)  # type: ignore[method-assign]
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
            FeedReader.recent,
            FeedReader.ranked,
            DocCache.get_many,
            ObjectStore.presigned_get,
            http_base.BaseView.encode_json,
        ) = saved  # type: ignore[method-assign]
    per = {k: t.total / n * 1000 for k, t in timers.items()}
    # `doc_cache_ms_all` overlaps `feed_reader_ms` (the reader hydrates the page's posts); the
    # rest of it is the authors' loader.
    total_ms = total / n * 1000
    out = {
        "requests": n,
        "total_ms": round(total_ms, 2),
        "feed_reader_ms": round(per["reader"], 2),
        "doc_cache_ms_all": round(per["doc_cache"], 2),
        "presign_ms": round(per["presign"], 2),
        "presign_calls_per_request": round(timers["presign"].calls / n, 1),
        "json_encode_ms": round(per["json"], 2),
    }
    out["graphql_rest_ms"] = round(total_ms - per["reader"] - per["presign"] - per["json"], 2)
    return out


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
        "JSON encode": ("strawberry/http/base.py", "encode_json"),
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
