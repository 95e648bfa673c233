"""Account documents (`users`, `refresh_tokens`): indexes and small shared helpers.

Shard keys for a sharded MongoDB cluster (docs/data-model.md repeats them):
  users           {_id: "hashed"}   every hot read is by _id; username/email lookups go through
                                    the unique secondary indexes (unique indexes on a sharded
                                    collection must include the shard key, so at scale the
                                    uniqueness of username_lower / email moves to small
                                    lookup collections sharded by those fields).
  refresh_tokens  {_id: "hashed"}   a token is always presented with its id; family revocation
                                    is a rare scatter-gather.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, IndexModel
from redis.exceptions import RedisError

from datastore.mongo import register_indexes
from datastore.stores import Stores

register_indexes(
    "users",
    [
        IndexModel([("username_lower", ASCENDING)], unique=True, name="username_lower_unique"),
        IndexModel([("email", ASCENDING)], unique=True, name="email_unique"),
    ],
)
register_indexes(
    "refresh_tokens",
    [
        IndexModel([("family_id", ASCENDING)], name="family"),
        IndexModel([("user_id", ASCENDING)], name="user"),
    ],
)


def new_user_document(
    username: str, email: str, password_hash: str, full_name: str, now: datetime
) -> dict[str, Any]:
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
# (Imported here rather than at the top so this block merges as one appended hunk.)
from datetime import UTC  # noqa: E402

from pymongo import ReturnDocument  # noqa: E402

from datastore.doc_lock import document_lock  # noqa: E402


async def find_user(
    stores: Stores, user_id: ObjectId, projection: dict[str, int] | None = None
) -> dict | None:
    return await stores.db.users.find_one({"_id": user_id}, projection=projection)


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
