"""Readiness: ping each dependency with a deadline and report status and latency."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from datastore.stores import Stores, _first_line

CHECK_TIMEOUT_SECONDS = 2.0


async def _check(name: str, probe: Callable[[], Awaitable[object]]) -> dict[str, object]:
    start = time.perf_counter()
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        return {
            "status": "down",
            "latency_ms": round((time.perf_counter() - start) * 1000, 2),
            "error": _first_line(exc) if str(exc) else "timed out",
        }
    return {"status": "ok", "latency_ms": round((time.perf_counter() - start) * 1000, 2)}


async def check_dependencies(stores: Stores) -> dict[str, dict[str, object]]:
    results = await asyncio.gather(
        _check("mongo", lambda: stores.db.command("ping")),
        _check("redis", stores.redis.ping),
        _check("storage", stores.objects.ping),
    )
    checks = dict(zip(("mongo", "redis", "storage"), results, strict=True))
    checks["indexes"] = await stores.indexes.check(stores.db, checks["mongo"]["status"] == "ok")
    return checks
