"""Reads: likers, comments, notifications, the share inbox, and marking notifications read.

Every list is a keyset page (never an offset) with a signed cursor, and hides people the viewer
blocked or was blocked by.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any

from bson import ObjectId

from core.cursor import CursorCodec, cursor_codec
from core.errors import BadInput, NotFound
from core.ids import parse_object_id
from core.pagination import Page
from datastore import accounts, likes, notifications, shares
from datastore import posts as posts_repo
from datastore.doc_cache import comment_cache
from datastore.graph import blocked_among
from datastore.likes import LikeDoc
from datastore.notifications import NotificationDoc
from datastore.posts import READY
from datastore.shares import ShareDoc
from datastore.stores import Stores
from services.comment_threads import remove_from_thread, thread_ids
from services.interactions_base import from_ms, to_ms
from services.visibility import visible_owner_ids


def _after_id(codec: CursorCodec, kind: str, after: str | None) -> ObjectId | None:
    return parse_object_id(codec.decode(kind, after)) if after else None


async def _id_page(
    stores: Stores,
    fetch: Callable[[ObjectId | None, int], Awaitable[list[Any]]],
    *,
    kind: str,
    first: int,
    after: str | None,
    viewer: ObjectId | None,
    person_field: str,
) -> Page[Any]:
    """A page of documents in `_id` order (ObjectIds grow with creation time), `fetch(after_id,
    limit)` reading each batch from its repository, leaving out documents whose `person_field`
    has a block either way with `viewer`. Blocks are checked in Redis per fetched batch (no
    `$nin` scan), fetching again while the page is short."""
    after_id = _after_id(cursor_codec(stores.settings), kind, after)
    items: list[Any] = []
    more = True
    while more and len(items) <= first:
        batch = await fetch(after_id, first + 1)
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
    return Page(
        items, [cursor_codec(stores.settings).encode(kind, str(d["_id"])) for d in items], has_next
    )


async def likers_page(
    stores: Stores, viewer: ObjectId | None, post_id: ObjectId, first: int, after: str | None
) -> Page[dict]:
    """Like documents of a post, newest first."""

    async def fetch(before: ObjectId | None, limit: int) -> list[LikeDoc]:
        return await likes.likers_batch(stores, post_id, before=before, limit=limit)

    return await _id_page(
        stores,
        fetch,
        kind="likers",
        first=first,
        after=after,
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
    after_id = _after_id(cursor_codec(stores.settings), kind, after)
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
    return Page(
        items, [cursor_codec(stores.settings).encode(kind, str(d["_id"])) for d in items], has_next
    )


async def viewer_liked(
    stores: Stores, viewer: ObjectId, post_ids: Iterable[ObjectId]
) -> set[ObjectId]:
    """Which of `post_ids` `viewer` likes: one query for a whole page of posts."""
    return await likes.liked_post_ids(stores, viewer, post_ids)


# --- notifications -------------------------------------------------------------------------
async def notifications_page(
    stores: Stores, viewer: ObjectId, first: int, after: str | None
) -> Page[dict]:
    """The viewer's notifications, most recent activity first (a group that gains an actor
    moves back to the top)."""
    before: tuple[datetime, ObjectId] | None = None
    if after:
        payload = cursor_codec(stores.settings).decode("notifications", after)
        try:
            t_ms, hex_id = int(payload[0]), str(payload[1])
        except (TypeError, ValueError, IndexError) as exc:
            raise BadInput("Malformed cursor", argument="after") from exc
        before = (from_ms(t_ms), parse_object_id(hex_id))
    docs = await notifications.page_of_recipient(stores, viewer, before=before, limit=first + 1)
    items = docs[:first]
    cursors = [
        cursor_codec(stores.settings).encode(
            "notifications", [to_ms(d["updated_at"]), str(d["_id"])]
        )
        for d in items
    ]
    return Page(items, cursors, len(docs) > first)


async def notification_of(
    stores: Stores, viewer: ObjectId, notification: ObjectId
) -> NotificationDoc | None:
    """The notification, if it is the viewer's."""
    doc = await notifications.find_notification(stores, notification)
    return doc if doc is not None and doc["recipient_id"] == viewer else None


async def current_post(stores: Stores, post_id: ObjectId) -> dict | None:
    """The post as it is now (its counters included), read fresh."""
    return next(iter(await posts_repo.find_posts(stores, [post_id])), None)


async def unread_notification_count(stores: Stores, viewer: ObjectId) -> int:
    return await notifications.unread_count(stores, viewer)


async def mark_notifications_read(stores: Stores, viewer: ObjectId, up_to: ObjectId | None) -> int:
    """Mark read the notification `up_to` and everything older in the list (all when None);
    returns how many changed."""
    anchor = None
    if up_to is not None:
        anchor = await notifications.find_notification(stores, up_to)
        if anchor is None or anchor["recipient_id"] != viewer:
            raise NotFound("Notification not found")
    return await notifications.mark_read(stores, viewer, anchor)


# --- share inbox ---------------------------------------------------------------------------
async def shared_with_me_page(
    stores: Stores, viewer: ObjectId, first: int, after: str | None
) -> Page[dict]:
    """Shares received, newest first. A share whose post the viewer can no longer see (deleted,
    made private, blocked) or whose sender is blocked is left out."""

    async def fetch(before: ObjectId | None, limit: int) -> list[ShareDoc]:
        return await shares.inbox_batch(stores, viewer, before=before, limit=limit)

    page = await _id_page(
        stores,
        fetch,
        kind="shares",
        first=first,
        after=after,
        viewer=viewer,
        person_field="sender_id",
    )
    post_ids = list(dict.fromkeys(s["post_id"] for s in page.items))
    posts = {p["_id"]: p for p in await posts_repo.find_posts(stores, post_ids)}
    author_ids = list({p["author_id"] for p in posts.values()})
    authors = await accounts.find_users(stores, author_ids)
    visible = await visible_owner_ids(stores, viewer, authors)
    keep = [
        i
        for i, s in enumerate(page.items)
        if (p := posts.get(s["post_id"])) is not None
        and p.get("status") == READY
        and p["author_id"] in visible
    ]
    return Page([page.items[i] for i in keep], [page.cursors[i] for i in keep], page.has_next)
