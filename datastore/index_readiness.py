"""Whether the registered MongoDB indexes exist: the process is not ready without them.

A unique index is what keeps a like, a follow or a username from being written twice; serving
without it corrupts data quietly. So `/readyz` reports an "indexes" check, which stays down,
naming each index that could not be created, until they all exist. While not ready it creates
the missing indexes again on a backoff, and again whenever MongoDB comes back after an outage,
so resolving the cause (deleting a duplicate) makes the process ready without a restart."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field

from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import PyMongoError

from datastore.mongo import IndexProblem, ensure_indexes

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0


@dataclass
class IndexReadiness:
    """One per process. `ready` is only true after an `ensure_indexes` that left nothing
    missing; nothing is read from MongoDB while it stays true and MongoDB answers."""

    first_retry_s: float = FIRST_RETRY_SECONDS
    max_retry_s: float = MAX_RETRY_SECONDS
    ready: bool = False
    problems: list[IndexProblem] = field(default_factory=list)
    error: str | None = "not created yet"
    _retry_at: float = 0.0
    _retry_s: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def ensure(self, db: AsyncDatabase) -> list[IndexProblem]:
        """Create what is missing and record the outcome. Raises when MongoDB is unreachable
        (the state then says so and the next check tries again)."""
        async with self._lock:
            try:
                problems = await ensure_indexes(db)
            except PyMongoError as exc:
                self._record_failure(f"not checked: {_first_line(exc)}", [])
                raise
            if problems:
                self._record_failure("cannot be created", problems)
                for problem in problems:
                    log.error("mongo index not created: %s", problem.describe())
            else:
                if not self.ready and self.problems:
                    log.warning("mongo indexes: all created, ready")
                self.ready, self.problems, self.error = True, [], None
                self._retry_s = 0.0
            return problems

    def database_lost(self) -> None:
        """MongoDB stopped answering: check the indexes again as soon as it is back (it may
        come back restored from a backup, or as a new empty server)."""
        if self.ready:
            self.ready, self.error = False, "not checked since mongo was unreachable"
            self._retry_at, self._retry_s = 0.0, 0.0

    async def check(self, db: AsyncDatabase, mongo_up: bool) -> dict[str, object]:
        """The "indexes" entry of /readyz."""
        if not mongo_up:
            self.database_lost()
            return self.report(status="pending")
        if not self.ready and time.monotonic() >= self._retry_at and not self._lock.locked():
            # A failure is recorded in the state (and retried later); the report says it.
            with contextlib.suppress(PyMongoError):
                await self.ensure(db)
        return self.report()

    def report(self, status: str | None = None) -> dict[str, object]:
        if self.ready:
            return {"status": "ok"}
        entry: dict[str, object] = {"status": status or "down", "error": self.error}
        if self.problems:
            entry["failed"] = [f"{p.collection}.{p.index}" for p in self.problems]
            entry["details"] = [p.describe() for p in self.problems]
        return entry

    def _record_failure(self, error: str, problems: list[IndexProblem]) -> None:
        self.ready, self.error, self.problems = False, error, problems
        self._retry_s = min(max(self._retry_s * 2, self.first_retry_s), self.max_retry_s)
        self._retry_at = time.monotonic() + self._retry_s


def _first_line(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text.splitlines()[0][:300]
