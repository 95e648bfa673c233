"""Dataloaders shared across domains. Each batches one kind of key into one query per tick of
the event loop; `info.context.loader(users_by_id)` returns the request's instance.

Users and posts read through the Redis document cache (datastore/doc_cache.py): one MGET per
batch, MongoDB only for misses. FerretDB answers even an `_id` `$in` with a collection scan, so
this is what keeps a feed page's hydration cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiodataloader import DataLoader
from bson import ObjectId

from datastore.accounts import user_ids_by_username
from datastore.doc_cache import post_cache, user_cache

if TYPE_CHECKING:
    from resolvers.context import Context


def users_by_id(ctx: Context) -> DataLoader:
    """user id -> user document (or None)."""

    async def load(ids: list[ObjectId]) -> list[dict | None]:
        ctx.observers.batch("users_by_id", len(ids))
        return await user_cache(ctx.stores).get_many(ids)

    return DataLoader(load, max_batch_size=500)


def users_by_username(ctx: Context) -> DataLoader:
    """lowercased username -> user document (or None).

    Ids come from the username map (datastore/accounts.py), documents through the document
    cache."""

    async def load(names: list[str]) -> list[dict | None]:
        ctx.observers.batch("users_by_username", len(names))
        stores = ctx.stores
        ids = await user_ids_by_username(stores, names)
        docs = await user_cache(stores).get_many([ids[n] for n in names if n in ids])
        by_id = {d["_id"]: d for d in docs if d is not None}
        return [by_id.get(ids[n]) if n in ids else None for n in names]

    return DataLoader(load, max_batch_size=500)


def posts_by_id(ctx: Context) -> DataLoader:
    """post id -> post document (or None), any status: callers apply services/read_posts.py's
    visibility rules. One `$in` on `_id` per batch (the feed loads a page of posts through it)."""

    async def load(ids: list[ObjectId]) -> list[dict | None]:
        ctx.observers.batch("posts_by_id", len(ids))
        return await post_cache(ctx.stores).get_many(ids)

    return DataLoader(load, max_batch_size=500)
