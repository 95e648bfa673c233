"""Small jobs the worker always has: a liveness echo (used by smoke tests and ops checks)."""

from __future__ import annotations

from typing import Any

from worker.registry import job


@job
async def echo(ctx: dict[str, Any], *, value: Any, fail_times: int = 0) -> dict[str, Any]:
    """Return `value`. With `fail_times`, fail that many attempts first (to exercise retries)."""
    job_ = ctx["job"]
    if job_.attempts <= fail_times:
        raise RuntimeError(f"echo asked to fail attempt {job_.attempts}")
    return {"value": value, "attempts": job_.attempts}
