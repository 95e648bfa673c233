"""Small jobs the worker always has: a liveness echo (used by smoke tests and ops checks)."""

from __future__ import annotations

import time
from typing import Any

from worker.registry import job


@job
async def echo(
    ctx: dict[str, Any], *, value: Any, fail_times: int = 0, hold_cpu_ms: int = 0
) -> dict[str, Any]:
    """Return `value`. With `fail_times`, fail that many attempts first (to exercise retries);
    with `hold_cpu_ms`, keep the worker's event loop busy that long first, as a CPU-bound job
    does (to exercise the queue's upkeep while the loop is late)."""
    job_ = ctx["job"]
    if job_.attempts <= fail_times:
        raise RuntimeError(f"echo asked to fail attempt {job_.attempts}")
    if hold_cpu_ms:
        until = time.perf_counter() + hold_cpu_ms / 1000
        while time.perf_counter() < until:
            pass
    return {"value": value, "attempts": job_.attempts}
