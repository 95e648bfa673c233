"""Job functions register here with `@job`, so the worker process knows every function by name
and the API can enqueue by name without importing heavy modules."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

JobFn = Callable[..., Awaitable[Any]]

JOBS: dict[str, JobFn] = {}
# function name -> cron expression, for jobs the worker runs on a schedule.
CRONS: dict[str, str] = {}

# Modules that define jobs; imported by the worker at start so every `@job` has run.
JOB_MODULES: list[str] = ["worker.builtin_jobs", "feed.fanout", "feed.explore", "worker.posts_jobs"]
JOB_MODULES.append("search.jobs")
JOB_MODULES.append("services.interaction_events")
JOB_MODULES.append("services.touch_activity")


def job(fn: JobFn) -> JobFn:
    JOBS[fn.__name__] = fn
    return fn


def cron(expression: str) -> Callable[[JobFn], JobFn]:
    """Also run this job on a schedule (standard five-field cron expression, UTC)."""

    def register(fn: JobFn) -> JobFn:
        job(fn)
        CRONS[fn.__name__] = expression
        return fn

    return register


def load_all() -> dict[str, JobFn]:
    import importlib

    for name in JOB_MODULES:
        importlib.import_module(name)
    return JOBS
