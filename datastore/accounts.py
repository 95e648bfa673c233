"""The `users` repository: its documents, queries and indexes (refresh tokens:
datastore/refresh_tokens.py; the graph: datastore/graph.py).

Shard keys for a sharded MongoDB cluster (docs/data-model.md repeats them):
  users           {_id: "hashed"}   every hot read is by _id; username/email lookups go through
                                    the unique secondary indexes (unique indexes on a sharded
                                    collection must include the shard key, so at scale the
                                    uniqueness of username_lower / email moves to small
                                    lookup collections sharded by those fields).
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypedDict

from bson import ObjectId
from pymongo import ASCENDING, IndexModel, ReturnDocument
from pymongo.errors import DuplicateKeyError
from redis.exceptions import RedisError

from datastore.doc_lock import document_lock, find_and_update_document, update_document
from datastore.mongo import register_indexes
from datastore.query_shapes import query
from datastore.stores import Stores

register_indexes(
    "users",
    [
        IndexModel([("username_lower", ASCENDING)], unique=True, name="username_lower_unique"),
        IndexModel([("email", ASCENDING)], unique=True, name="email_unique"),
        # The search index's catch-up after a rebuild (search/index.py).
        IndexModel([("updated_at", ASCENDING)], name="updated_at"),
    ],
)
_BY_USERNAME = query("users", "by_username", equality=["username_lower"])
_BY_EMAIL = query("users", "by_email", equality=["email"])
query("users", "private_among", equality=["_id", "is_private"])
query("users", "all_users")
query("users", "updated_since", range="updated_at")


class UserDoc(TypedDict, total=False):
    """A `users` document (docs/data-model.md). `total=False`: projections and documents
    written by older code may lack fields; readers use `.get` for the optional ones."""

    _id: ObjectId
    username: str
    username_lower: str
    email: str
    password_hash: str
    full_name: str
    bio: str
    website: str | None
    is_private: bool
    is_verified: bool
    avatar: dict[str, Any] | None  # written by services/set_avatar.py
    follower_count: int
    following_count: int
    post_count: int
    created_at: datetime
    updated_at: datetime
    last_active_at: datetime


def new_user_document(
    username: str, email: str, password_hash: str, full_name: str, now: datetime
) -> UserDoc:
    """A new account's `users` document (docs/data-model.md), counters at zero."""
    return {
        "username": username,
        "username_lower": username.lower(),
        "email": email,
        "password_hash": password_hash,
        "full_name": full_name,
        "bio": "",
        "website": None,
        "is_private": False,
        "is_verified": False,
        "avatar": None,
        "follower_count": 0,
        "following_count": 0,
        "post_count": 0,
        "created_at": now,
        "updated_at": now,
        "last_active_at": now,
    }


# --- reads and writes ---------------------------------------------------------------------


async def find_user(
    stores: Stores, user_id: ObjectId, projection: dict[str, int] | None = None
) -> UserDoc | None:
    """A primary-key read (the one FerretDB pushes down)."""
    return await stores.db.users.find_one({"_id": user_id}, projection=projection)


async def find_users(stores: Stores, user_ids: list[ObjectId]) -> list[UserDoc]:
    """The accounts that exist among `user_ids`, read fresh (not through the document cache),
    in no particular order."""
    return await stores.backend.find_by_ids("users", user_ids)


async def find_by_login(stores: Stores, login: str) -> UserDoc | None:
    """The account whose lowercased username, or (with an `@`) email, is `login`."""
    field = _BY_EMAIL.equality[0] if "@" in login else _BY_USERNAME.equality[0]
    return await stores.db.users.find_one({field: login})


async def username_taken(stores: Stores, username_lower: str) -> bool:
    found = await stores.db.users.find_one({"username_lower": username_lower}, {"_id": 1})
    return found is not None


async def email_taken(stores: Stores, email: str) -> bool:
    return await stores.db.users.find_one({"email": email}, {"_id": 1}) is not None


async def insert_user(stores: Stores, doc: UserDoc) -> ObjectId | None:
    """Insert a new account, setting `doc["_id"]`. None when the username or email is taken
    (the unique indexes decide races between registrations)."""
    try:
        result = await stores.backend.write(lambda: stores.db.users.insert_one(doc))
    except DuplicateKeyError:
        return None
    doc["_id"] = result.inserted_id
    return result.inserted_id


async def set_user_fields(stores: Stores, user_id: ObjectId, fields: Mapping[str, Any]) -> bool:
    """`$set` on one user, under its document lock. Returns whether the user exists."""
    return await update_document(stores, "users", user_id, {"$set": dict(fields)})


async def update_user_fields(
    stores: Stores, user_id: ObjectId, fields: Mapping[str, Any]
) -> UserDoc | None:
    """`$set` on one user; returns the document after it (None: no such user)."""
    return await find_and_update_document(stores, "users", user_id, {"$set": dict(fields)})


async def move_counters(stores: Stores, user_id: ObjectId, deltas: Mapping[str, int]) -> bool:
    """`$inc` the user's counters (follower_count, following_count, post_count)."""
    return await update_document(stores, "users", user_id, {"$inc": dict(deltas)})


async def raise_last_active(
    stores: Stores, user_id: ObjectId, when: datetime, *, keep_cached: bool = False
) -> bool:
    """`$max` on `last_active_at`, so an older recorded time never undoes a newer one."""
    return await update_document(
        stores, "users", user_id, {"$max": {"last_active_at": when}}, keep_cached=keep_cached
    )


async def user_counter(stores: Stores, user_id: ObjectId, field: str) -> int | None:
    """One counter of a user read from MongoDB (not the cache); None: no such user."""
    doc = await stores.db.users.find_one({"_id": user_id}, projection={field: 1})
    return None if doc is None else int(doc.get(field, 0))


def pair_id(kind: str, a: ObjectId, b: ObjectId) -> ObjectId:
    """A deterministic ObjectId for the ordered pair (a, b) of relation `kind`.

    Why: FerretDB pushes only `_id` equality down to SQLite, so "does a follow b" by
    (follower_id, followee_id) would scan the collection; with this `_id` it is a primary-key
    read, and a repeated insert fails on `_id` uniqueness atomically. 96 bits of SHA-256 make a
    collision negligible; the unique compound index stays as the documented constraint.
    """
    digest = hashlib.sha256(kind.encode() + b"\0" + a.binary + b.binary).digest()
    return ObjectId(digest[:12])


# --- username -> id ------------------------------------------------------------------------
# Usernames never change, so a Redis hash maps each (lowercased) to its user id: registration
# writes it and a lookup that misses fills it from MongoDB, whose `username_lower` query is a
# scan on FerretDB. Losing the hash costs scans, never a wrong answer.


def username_map_key(stores: Stores) -> str:
    return stores.keys("uname")


async def remember_usernames(stores: Stores, ids: dict[str, ObjectId]) -> None:
    if ids:
        with contextlib.suppress(RedisError):
            await stores.redis.hset(
                username_map_key(stores), mapping={n: str(i) for n, i in ids.items()}
            )


async def user_ids_by_username(stores: Stores, names: list[str]) -> dict[str, ObjectId]:
    """Lowercased usernames -> user ids, for those that exist."""
    try:
        cached = await stores.redis.hmget(username_map_key(stores), names)
    except RedisError:
        cached = [None] * len(names)
    ids = {n: ObjectId(i) for n, i in zip(names, cached, strict=True) if i}
    missing = [n for n in dict.fromkeys(names) if n not in ids]
    if missing:
        # `$in` on a few names: the `by_username` shape.
        found = {
            doc["username_lower"]: doc["_id"]
            async for doc in stores.db.users.find(
                {"username_lower": {"$in": missing}}, {"username_lower": 1}
            )
        }
        await remember_usernames(stores, found)
        ids |= found
    return ids


# --- reads and writes of `users` the posts, feed and search areas need ---------------------


async def replace_avatar(stores: Stores, user_id: ObjectId, item: dict | None) -> dict | None:
    """Set the user's avatar media item (None: remove it); the document before, or None."""
    async with document_lock(stores, "users", user_id):
        return await stores.backend.write(
            lambda: stores.db.users.find_one_and_update(
                {"_id": user_id},
                {"$set": {"avatar": item, "updated_at": datetime.now(UTC)}},
                # No projection: FerretDB 1.24's findAndModify does not implement `fields`.
                return_document=ReturnDocument.BEFORE,
            )
        )


async def private_user_ids(stores: Stores, ids: list[ObjectId]) -> set[ObjectId]:
    """Those of `ids` that are private accounts."""
    if not ids:
        return set()
    cursor = stores.db.users.find({"_id": {"$in": ids}, "is_private": True}, {"_id": 1})
    return {u["_id"] async for u in cursor}


def all_users(stores: Stores, projection: dict[str, int], batch_size: int = 5000) -> Any:
    """Every user, streamed (the search index rebuild)."""
    return stores.db.users.find({}, projection=projection).batch_size(batch_size)


async def user_ids_updated_since(stores: Stores, since: datetime) -> list[ObjectId]:
    cursor = stores.db.users.find({"updated_at": {"$gte": since}}, projection={"_id": 1})
    return [u["_id"] async for u in cursor]
