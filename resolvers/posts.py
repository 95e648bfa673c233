"""Resolvers of the posts/media domain: auth, argument decoding, dataloaders, then services/."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiodataloader import DataLoader
from bson import ObjectId

from core.errors import BadInput
from core.events import Deps
from core.ids import decode_id
from core.pagination import Page
from datastore import locations
from datastore.accounts import find_user
from resolvers.context import Context
from resolvers.loaders import posts_by_id, users_by_id
from services import hls_delivery, read_posts
from services.create_post import LocationArg, MediaArg, create_post
from services.create_upload_url import UploadTicket, create_upload_url
from services.delete_post import delete_post
from services.edit_post import KEEP, edit_post
from services.media_objects import pick_rendition
from services.set_avatar import remove_avatar, set_avatar, set_avatar_from_bytes
from services.visibility import can_view_post

URL_TTL = timedelta(hours=1)


def _deps(ctx: Context) -> Deps:
    return Deps(ctx.stores, ctx.queue)


def media_url(ctx: Context, rendition: dict | None) -> str | None:
    if rendition is None:
        return None
    return ctx.stores.objects.presigned_get(rendition["key"], URL_TTL)


def hls_url(ctx: Context, item: dict) -> str | None:
    key = item.get("hls_key")
    if not key:
        return None
    base = str(ctx.request.base_url) if ctx.request is not None else ""
    # A subscription's request is the WebSocket; the playlist is fetched over HTTP.
    base = base.replace("ws://", "http://", 1).replace("wss://", "https://", 1)
    secret = ctx.settings.jwt_secret.get_secret_value()
    return hls_delivery.playlist_url(ctx.stores, key, base, secret)


def url_for(
    ctx: Context, renditions: list[dict], width: int | None, content_type: str | None
) -> str | None:
    if width is not None and width <= 0:
        raise BadInput("width must be positive", argument="width")
    return media_url(ctx, pick_rendition(renditions, width, content_type))


async def read_file(file: Any, max_bytes: int) -> bytes:
    """The bytes of a multipart file, refusing one over the per-file limit without reading it
    all into memory."""
    data = await file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise BadInput(f"The file is larger than {max_bytes} bytes", maxBytes=max_bytes)
    return data


async def media_args(ctx: Context, items: list[tuple[Any, str | None]]) -> list[MediaArg]:
    """(file, uploadId) pairs -> MediaArg; exactly one of the two per item."""
    out = []
    for index, (file, upload_id) in enumerate(items):
        if (file is None) == (upload_id is None):
            raise BadInput(f"media[{index}]: give exactly one of file and uploadId", index=index)
        if file is not None:
            out.append(MediaArg(data=await read_file(file, ctx.settings.max_upload_bytes)))
        else:
            out.append(MediaArg(upload_id=decode_id(upload_id, "Upload")))
    return out


async def resolve_post(ctx: Context, post_id: ObjectId) -> dict | None:
    post = await ctx.loader(posts_by_id).load(post_id)
    if post is None:
        return None
    author = await ctx.loader(users_by_id).load(post["author_id"])
    if author is None or not await can_view_post(ctx.stores, ctx.viewer_id, post, author):
        return None
    return post


async def resolve_post_by_global_id(ctx: Context, global_id: str) -> dict | None:
    return await resolve_post(ctx, decode_id(global_id, "Post"))


async def resolve_user_posts(
    ctx: Context, owner: dict, first: int | None, after: str | None
) -> Page[dict]:
    page = await read_posts.user_posts(
        ctx.stores, ctx.viewer_id, owner, ctx.cursors.clamp_first(first), after
    )
    # Prime the loader so `node`/`post` lookups later in the request reuse these documents.
    loader = ctx.loader(posts_by_id)
    for doc in page.items:
        loader.prime(doc["_id"], doc)
    return page


async def resolve_author(ctx: Context, post: dict) -> dict | None:
    return await ctx.loader(users_by_id).load(post["author_id"])


async def authors_of(ctx: Context, posts: list[dict]) -> dict[ObjectId, dict | None]:
    """The authors of a page of posts, by id, in one batched read."""
    ids = list(dict.fromkeys(p["author_id"] for p in posts))
    docs = await ctx.loader(users_by_id).load_many(ids) if ids else []
    return dict(zip(ids, docs, strict=True))


async def resolve_create_upload_url(ctx: Context, content_type: str, size: int) -> UploadTicket:
    return await create_upload_url(_deps(ctx), ctx.require_viewer(), content_type, size)


async def resolve_create_post(
    ctx: Context,
    items: list[tuple[Any, str | None]],
    caption: str | None,
    location: LocationArg | None,
) -> dict:
    viewer = ctx.require_viewer()
    media = await media_args(ctx, items)
    return await create_post(_deps(ctx), viewer, media, caption, location)


async def resolve_edit_post(
    ctx: Context, post_id: str, caption: Any = KEEP, location: Any = KEEP
) -> dict:
    viewer = ctx.require_viewer()
    return await edit_post(
        _deps(ctx), viewer, decode_id(post_id, "Post"), caption=caption, location=location
    )


async def resolve_delete_post(ctx: Context, post_id: str) -> bool:
    viewer = ctx.require_viewer()
    return await delete_post(_deps(ctx), viewer, decode_id(post_id, "Post"))


async def resolve_set_avatar(ctx: Context, file: Any, upload_id: str | None) -> dict:
    """Set (or, with neither file nor uploadId, remove) the viewer's avatar; returns the user.
    The accounts updateProfile can call this with its `avatar: MediaInput` argument."""
    viewer = ctx.require_viewer()
    deps = _deps(ctx)
    if file is not None and upload_id is not None:
        raise BadInput("Give one of file and uploadId", argument="avatar")
    if file is not None:
        await set_avatar_from_bytes(
            deps, viewer, await read_file(file, ctx.settings.max_upload_bytes)
        )
    elif upload_id is not None:
        await set_avatar(deps, viewer, decode_id(upload_id, "Upload"))
    else:
        await remove_avatar(deps, viewer)
    ctx.loader(users_by_id).clear(viewer)
    return await find_user(ctx.stores, viewer)


async def resolve_location_post_count(ctx: Context, location: dict) -> int:
    """A location's READY post count (the embedded copy in a post has none)."""
    if "post_count" in location:
        return int(location["post_count"])
    doc = await ctx.loader(locations_by_id).load(location["id"])
    return int((doc or {}).get("post_count", 0))


def locations_by_id(ctx: Context) -> DataLoader:
    async def load(ids: list[ObjectId]) -> list[dict | None]:
        found = await locations.locations_by_id(ctx.stores, ids)
        return [found.get(i) for i in ids]

    return DataLoader(load, max_batch_size=500)
