"""Reads: likers, comments, notifications, the share inbox, and marking notifications read.

Every list is a keyset page (never an offset) with a signed cursor, and hides people the viewer
blocked or was blocked by.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bson import ObjectId
from pymongo import ASCENDING, DESCENDING

from core.cursor import decode_cursor, encode_cursor
from core.errors import BadInput, NotFound
from core.ids import parse_object_id
from core.pagination import Page
from datastore.doc_cache import comment_cache
from datastore.doc_lock import document_lock, retry_busy
from datastore.graph import blocked_among
from datastore.stores import Stores
from services.comment_threads import remove_from_thread, thread_ids
from services.interactions_base import from_ms, to_ms
from services.visibility import visible_owner_ids


def _after_id(kind: str, after: str | None) -> ObjectId | None:
    return parse_object_id(decode_cursor(kind, after)) if after else None


async def _id_page(
    stores: Stores,
    collection: Any,
    query: dict[str, Any],
    *,
    kind: str,
    first: int,
    after: str | None,
    descending: bool,
    viewer: ObjectId | None,
    person_field: str,
) -> Page[dict]:
    """A page of `collection` in `_id` order (ObjectIds grow with creation time), leaving out
    documents whose `person_field` has a block either way with `viewer`. Blocks are checked in
    Redis per fetched batch (no `$nin` scan), fetching again while the page is short."""
    after_id = _after_id(kind, after)
    direction = DESCENDING if descending else ASCENDING
    items: list[dict] = []
    more = True
    while more and len(items) <= first:
        q = dict(query)
        if after_id is not None:
            q["_id"] = {"$lt" if descending else "$gt": after_id}
        batch = [d async for d in collection.find(q).sort("_id", direction).limit(first + 1)]
        more = len(batch) > first
        if not batch:
            break
        after_id = batch[-1]["_id"]
        hidden: set[ObjectId] = set()
        if viewer is not None:
            people = list({d[person_field] for d in batch if d[person_field] != viewer})
            hidden = await blocked_among(stores, viewer, people)
        items += [d for d in batch if d[person_field] not in hidden]
    has_next = len(items) > first or more
    items = items[:first]
    return Page(items, [encode_cursor(kind, str(d["_id"])) for d in items], has_next)


async def likers_page(
    stores: Stores, viewer: ObjectId | None, post_id: ObjectId, first: int, after: str | None
) -> Page[dict]:
    """Like documents of a post, newest first."""
    return await _id_page(
        stores,
        stores.db.likes,
        {"post_id": post_id},
        kind="likers",
        first=first,
        after=after,
        descending=True,
        viewer=viewer,
        person_field="user_id",
    )


async def comments_page(
    stores: Stores,
    viewer: ObjectId | None,
    post_id: ObjectId,
    first: int,
    after: str | None,
    *,
    reply_to_id: ObjectId | None = None,
) -> Page[dict]:
    """Top-level comments of a post (or the replies to one comment), oldest first: ids from the
    thread in Redis, documents through the cache. Comments whose author has a block either way
    with the viewer are left out, fetching again while the page is short."""
    kind = "comments" if reply_to_id is None else f"replies:{reply_to_id}"
    after_id = _after_id(kind, after)
    cache = comment_cache(stores)
    items: list[dict] = []
    more = True
    while more and len(items) <= first:
        ids = await thread_ids(stores, post_id, reply_to_id, after=after_id, limit=first + 1)
        more = len(ids) > first
        if not ids:
            break
        after_id = ids[-1]
        docs = await cache.get_many(ids)
        gone = [i for i, d in zip(ids, docs, strict=True) if d is None]
        if gone:  # deleted while a rebuild was reading them
            await remove_from_thread(stores, post_id, reply_to_id, gone)
        batch = [d for d in docs if d is not None]
        hidden: set[ObjectId] = set()
        if viewer is not None:
            people = list({d["author_id"] for d in batch if d["author_id"] != viewer})
            hidden = await blocked_among(stores, viewer, people)
        items += [d for d in batch if d["author_id"] not in hidden]
    has_next = len(items) > first or more
    items = items[:first]
    return Page(items, [encode_cursor(kind, str(d["_id"])) for d in items], has_next)


async def viewer_liked(
    stores: Stores, viewer: ObjectId, post_ids: Iterable[ObjectId]
) -> set[ObjectId]:
    """Which of `post_ids` `viewer` likes: one query for a whole page of posts."""
    ids = list(post_ids)
    if not ids:
        return set()
    cursor = stores.db.likes.find(
        {"user_id": viewer, "post_id": {"$in": ids}}, projection={"post_id": 1}
    )
    return {d["post_id"] async for d in cursor}


# --- notifications -------------------------------------------------------------------------
_NOTIFICATION_ORDER = [("updated_at", DESCENDING), ("_id", DESCENDING)]


def _before(t_ms: int, oid: ObjectId, *, inclusive: bool) -> dict[str, Any]:
    t = from_ms(t_ms)
    return {
        "$or": [
            {"updated_at": {"$lt": t}},
            {"updated_at": t, "_id": {"$lte" if inclusive else "$lt": oid}},
        ]
    }


async def notifications_page(
    stores: Stores, viewer: ObjectId, first: int, after: str | None
) -> Page[dict]:
    """The viewer's notifications, most recent activity first (a group that gains an actor
    moves back to the top)."""
    query: dict[str, Any] = {"recipient_id": viewer}
    if after:
        payload = decode_cursor("notifications", after)
        try:
            t_ms, hex_id = int(payload[0]), str(payload[1])
        except (TypeError, ValueError, IndexError) as exc:
            raise BadInput("Malformed cursor", argument="after") from exc
        query.update(_before(t_ms, parse_object_id(hex_id), inclusive=False))
    docs = [
        d
        async for d in stores.db.notifications.find(query)
        .sort(_NOTIFICATION_ORDER)
        .limit(first + 1)
    ]
    items = docs[:first]
    cursors = [
        encode_cursor("notifications", [to_ms(d["updated_at"]), str(d["_id"])]) for d in items
    ]
    return Page(items, cursors, len(docs) > first)


async def unread_notification_count(stores: Stores, viewer: ObjectId) -> int:
    return await stores.db.notifications.count_documents({"recipient_id": viewer, "read": False})


async def mark_notifications_read(stores: Stores, viewer: ObjectId, up_to: ObjectId | None) -> int:
    """Mark read the notification `up_to` and everything older in the list (all when None);
    returns how many changed."""
    query: dict[str, Any] = {"recipient_id": viewer, "read": False}
    if up_to is not None:
        anchor = await stores.db.notifications.find_one({"_id": up_to})
        if anchor is None or anchor["recipient_id"] != viewer:
            raise NotFound("Notification not found")
        query.update(_before(to_ms(anchor["updated_at"]), anchor["_id"], inclusive=True))
    if not stores.settings.serialize_document_writes:
        result = await retry_busy(
            lambda: stores.db.notifications.update_many(query, {"$set": {"read": True}})
        )
        return result.modified_count
    # FerretDB rewrites whole documents without isolation: a bulk $set racing an actor joining
    # a group would drop the actor. Each document is updated under its group's lock instead.
    ids = [d["_id"] async for d in stores.db.notifications.find(query, projection={"_id": 1})]
    changed = 0
    for nid in ids:
        async with document_lock(stores, "notifications", nid):
            result = await retry_busy(
                lambda nid=nid: stores.db.notifications.update_one(
                    {"_id": nid, "read": False}, {"$set": {"read": True}}
                )
            )
        changed += result.modified_count
    return changed


# --- share inbox ---------------------------------------------------------------------------
async def shared_with_me_page(
    stores: Stores, viewer: ObjectId, first: int, after: str | None
) -> Page[dict]:
    """Shares received, newest first. A share whose post the viewer can no longer see (deleted,
    made private, blocked) or whose sender is blocked is left out."""
    page = await _id_page(
        stores,
        stores.db.shares,
        {"recipient_id": viewer},
        kind="shares",
        first=first,
        after=after,
        descending=True,
        viewer=viewer,
        person_field="sender_id",
    )
    posts = {
        p["_id"]: p
        async for p in stores.db.posts.find(
            {"_id": {"$in": [s["post_id"] for s in page.items]}},
            projection={"author_id": 1, "status": 1},
        )
    }
    authors = [
        u
        async for u in stores.db.users.find(
            {"_id": {"$in": list({p["author_id"] for p in posts.values()})}},
            projection={"is_private": 1},
        )
    ]
    visible = await visible_owner_ids(stores, viewer, authors)
    keep = [
        i
        for i, s in enumerate(page.items)
        if (p := posts.get(s["post_id"])) is not None
        and p.get("status") == "READY"
        and p["author_id"] in visible
    ]
    return Page([page.items[i] for i in keep], [page.cursors[i] for i in keep], page.has_next)
