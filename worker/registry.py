"""Job functions register here with `@job`; `load_all` imports the modules that worker/jobs.py
names and checks that every handle there has its function and every function its handle."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

JobFn = Callable[..., Awaitable[Any]]

JOBS: dict[str, JobFn] = {}
# function name -> cron expression, for jobs the worker runs on a schedule.
CRONS: dict[str, str] = {}


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

    from worker.jobs import ALL

    for module in dict.fromkeys(h.module for h in ALL):
        importlib.import_module(module)
    declared = {h.name for h in ALL}
    if declared != set(JOBS):
        raise RuntimeError(
            f"worker/jobs.py and the @job functions disagree: handles without a function "
            f"{sorted(declared - set(JOBS))}, functions without a handle "
            f"{sorted(set(JOBS) - declared)}"
        )
    return JOBS
