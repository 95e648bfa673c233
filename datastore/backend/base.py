"""The writes whose implementation differs between MongoDB servers, behind one interface.

Repositories call `stores.backend` for these and never ask which server runs: a real MongoDB
(`mongodb.py`) applies each single-document update atomically, FerretDB 1.24 (`ferretdb.py`)
does not and needs locks, pending deltas and retries. Everything else (finds, counts) is the
same driver call on both and stays in the repositories."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar

from bson import ObjectId

# Called once a notification group has gained its actor(s), before the join returns: the
# caller pushes the group to live subscribers.
OnJoined = Callable[[], Awaitable[None]]


T = TypeVar("T")


def stored_now() -> datetime:
    """Now, at the millisecond precision BSON dates store, so a written time compares equal to
    the one read back."""
    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


class Backend(Protocol):
    name: str

    async def write(self, op: Callable[[], Awaitable[T]], *, idempotent: bool = False) -> T:
        """Run one driver write the repository shapes itself (a filtered find-and-modify, an
        upsert); FerretDB retries it when SQLite reports the database busy. Only for writes
        that are safe to repeat after an error (each is one atomic statement there).
        `idempotent`: running it twice leaves what running it once does (a `$set`), so it is
        also retried after a dropped connection (backend/reconnect.py); never for `$inc`."""
        ...

    async def insert_one(self, collection: str, doc: Mapping[str, Any]) -> Any:
        """Insert `doc`; returns its `_id`. Raises DuplicateKeyError on a unique index.
        Retried after a dropped connection: its `_id` is fixed first, so a retry that meets
        the document its lost attempt wrote counts as the insert (backend/reconnect.py)."""
        ...

    async def delete_one(self, collection: str, filter: Mapping[str, Any]) -> bool:
        """Delete one matching document; returns whether one was deleted."""
        ...

    async def delete_document(
        self, collection: str, doc_id: Any, *, where: Mapping[str, Any] | None = None
    ) -> bool:
        """Delete one document that others write concurrently (optionally only while it also
        matches `where`), dropping its cached copy; returns whether it was deleted."""
        ...

    async def delete_many(self, collection: str, filter: Mapping[str, Any]) -> int: ...

    async def update_matching(
        self, collection: str, filter: Mapping[str, Any], update: Mapping[str, Any]
    ) -> int:
        """`update_many`, for documents no other writer races (a user's own tokens); returns
        how many matched."""
        ...

    async def update_document(
        self,
        collection: str,
        doc_id: Any,
        update: Mapping[str, Any],
        *,
        where: Mapping[str, Any] | None = None,
        keep_cached: bool = False,
    ) -> bool:
        """Update one document that others write concurrently (counters, profile fields),
        optionally only while it also matches `where`; returns whether it matched. Its cached
        copy (datastore/doc_cache.py) is dropped unless `keep_cached`."""
        ...

    async def find_one_and_update(
        self, collection: str, doc_id: Any, update: Mapping[str, Any]
    ) -> dict | None:
        """Like `update_document`, returning the document after the update (None: missing)."""
        ...

    async def add_counters(
        self, collection: str, doc_id: ObjectId, deltas: Mapping[str, int]
    ) -> dict | None:
        """Add `deltas` to counter fields of a heavily written document (a post's likes);
        returns the document with them applied, None when it does not exist."""
        ...

    async def settle_counters(self, collection: str, doc_id: ObjectId) -> None:
        """Apply whatever `add_counters` still holds back for the document (nothing, where
        each `$inc` is applied at once), so its stored counters can be compared with a
        recount (maintenance/reconcile.py)."""
        ...

    async def join_group(
        self,
        collection: str,
        group: Mapping[str, Any],
        actor_id: ObjectId,
        *,
        max_actors: int,
        on_joined: OnJoined,
    ) -> bool:
        """Add `actor_id` to the group document `group` (`_id` and its fixed fields), creating
        it when missing: `actor_ids` keeps the newest `max_actors`, oldest first, and
        `actor_count` counts distinct actors. False when the actor was already in it."""
        ...

    async def mark_read(self, collection: str, filter: Mapping[str, Any]) -> int:
        """Set `read: True` on the matching documents; returns how many changed."""
        ...

    async def find_by_ids(self, collection: str, ids: list[Any]) -> list[dict]:
        """The documents with these `_id`s that exist, in no particular order."""
        ...

    def serialized(
        self, collection: str, doc_id: Any, *, keep_cached: bool = False
    ) -> AbstractAsyncContextManager[None]:
        """Hold the document for a read-modify-write by the caller; on leaving, its cached copy
        is dropped unless `keep_cached`."""
        ...
