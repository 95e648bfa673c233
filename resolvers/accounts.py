"""Resolvers for accounts and the social graph: auth, arguments, loaders, then the services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bson import ObjectId

from core.errors import BadInput, Forbidden, NotFound
from core.events import Deps
from core.ids import decode_id
from core.pagination import Page
from datastore import graph
from datastore.accounts import UserDoc
from resolvers import accounts_loaders as loaders
from resolvers.loaders import users_by_id, users_by_username
from services.answer_follow_request import approve_follow_request, reject_follow_request
from services.authenticate import authenticate, log_out, refresh_session
from services.block_user import block_user, unblock_user
from services.follow_user import FollowResult, follow_user
from services.refresh_tokens import AuthResult
from services.register_user import register_user
from services.unfollow_user import unfollow_user
from services.update_profile import update_profile
from services.visibility import require_content_access

if TYPE_CHECKING:
    from resolvers.context import Context


def _deps(ctx: Context) -> Deps:
    return Deps(ctx.stores, ctx.queue)


def _user_id(global_id: str) -> ObjectId:
    return decode_id(global_id, "User")


# --- auth ----------------------------------------------------------------------------------


async def resolve_register(
    ctx: Context, username: str, email: str, password: str, full_name: str | None
) -> AuthResult:
    return await register_user(
        _deps(ctx),
        username=username,
        email=email,
        password=password,
        full_name=full_name or "",
        client_address=ctx.client_address,
    )


async def resolve_login(ctx: Context, login: str, password: str) -> AuthResult:
    return await authenticate(
        _deps(ctx), login=login, password=password, client_address=ctx.client_address
    )


async def resolve_refresh(ctx: Context, refresh_token: str) -> AuthResult:
    return await refresh_session(_deps(ctx), refresh_token)


async def resolve_logout(ctx: Context, refresh_token: str) -> bool:
    return await log_out(_deps(ctx), refresh_token)


# --- profiles ------------------------------------------------------------------------------


async def resolve_viewer(ctx: Context) -> UserDoc | None:
    viewer = ctx.viewer_id
    if viewer is None:
        return None
    from services.account_lookup import load_viewer

    return await load_viewer(ctx.stores, viewer)


async def resolve_user(ctx: Context, id: str | None, username: str | None) -> UserDoc:
    """Exactly one of `id` / `username`. A user who blocked the viewer is NOT_FOUND to them,
    as if the account did not exist."""
    if (id is None) == (username is None):
        raise BadInput("Give exactly one of `id` and `username`")
    if id is not None:
        doc = await ctx.loader(users_by_id).load(_user_id(id))
    else:
        doc = await ctx.loader(users_by_username).load(username.strip().lower())
    if doc is None:
        raise NotFound("No such user")
    viewer = ctx.viewer_id
    if (
        viewer is not None
        and viewer != doc["_id"]
        and await graph.has_blocked(ctx.stores, doc["_id"], viewer)
    ):
        raise NotFound("No such user")
    return doc


async def resolve_update_profile(ctx: Context, fields: dict[str, Any]) -> UserDoc:
    viewer = ctx.require_viewer()
    return await update_profile(_deps(ctx), viewer, **fields)


# --- graph mutations -----------------------------------------------------------------------


async def resolve_follow(ctx: Context, user_id: str) -> FollowResult:
    return await follow_user(_deps(ctx), ctx.require_viewer(), _user_id(user_id))


async def resolve_unfollow(ctx: Context, user_id: str) -> UserDoc:
    return await unfollow_user(_deps(ctx), ctx.require_viewer(), _user_id(user_id))


async def resolve_approve(ctx: Context, user_id: str) -> UserDoc:
    return await approve_follow_request(_deps(ctx), ctx.require_viewer(), _user_id(user_id))


async def resolve_reject(ctx: Context, user_id: str) -> UserDoc:
    return await reject_follow_request(_deps(ctx), ctx.require_viewer(), _user_id(user_id))


async def resolve_block(ctx: Context, user_id: str) -> UserDoc:
    return await block_user(_deps(ctx), ctx.require_viewer(), _user_id(user_id))


async def resolve_unblock(ctx: Context, user_id: str) -> UserDoc:
    return await unblock_user(_deps(ctx), ctx.require_viewer(), _user_id(user_id))


# --- User fields ---------------------------------------------------------------------------


async def _hydrate(ctx: Context, page: Page[ObjectId]) -> Page[UserDoc]:
    docs = await ctx.loader(users_by_id).load_many(page.items)
    kept = [(d, c) for d, c in zip(docs, page.cursors, strict=True) if d is not None]
    return Page([d for d, _ in kept], [c for _, c in kept], page.has_next)


async def resolve_graph_list(
    ctx: Context, owner: UserDoc, kind: graph.GraphKind, first: int | None, after: str | None
) -> Page[UserDoc]:
    """followers / following: private accounts' lists only for approved followers and the
    owner; blocked either way, for no one of the pair."""
    size = ctx.cursors.clamp_first(first)
    await require_content_access(ctx.stores, ctx.viewer_id, owner)
    return await _hydrate(ctx, await graph.graph_page(ctx.stores, owner, kind, size, after))


async def resolve_follow_requests(
    ctx: Context, owner: UserDoc, first: int | None, after: str | None
) -> Page[UserDoc]:
    size = ctx.cursors.clamp_first(first)
    if ctx.require_viewer() != owner["_id"]:
        raise Forbidden("Only the account owner sees its follow requests")
    return await _hydrate(ctx, await graph.requests_page(ctx.stores, owner["_id"], size, after))


async def _relation(ctx: Context, owner: UserDoc, factory: Any) -> bool:
    viewer = ctx.viewer_id
    if viewer is None or viewer == owner["_id"]:
        return False
    return await ctx.loader(factory).load(owner["_id"])


async def resolve_is_followed_by_viewer(ctx: Context, owner: UserDoc) -> bool:
    return await _relation(ctx, owner, loaders.viewer_follows)


async def resolve_follows_viewer(ctx: Context, owner: UserDoc) -> bool:
    return await _relation(ctx, owner, loaders.follows_viewer)


async def resolve_viewer_has_requested(ctx: Context, owner: UserDoc) -> bool:
    return await _relation(ctx, owner, loaders.viewer_requested)


async def resolve_is_blocked_by_viewer(ctx: Context, owner: UserDoc) -> bool:
    return await _relation(ctx, owner, loaders.viewer_blocked)


async def resolve_viewer_can_see_content(ctx: Context, owner: UserDoc) -> bool:
    from services.visibility import can_see_content

    return await can_see_content(ctx.stores, ctx.viewer_id, owner)


async def resolve_node_user(ctx: Context, key: ObjectId) -> UserDoc | None:
    """`node(id:)` for users: like `user(id:)` but null instead of NOT_FOUND."""
    doc = await ctx.loader(users_by_id).load(key)
    if doc is None:
        return None
    viewer = ctx.viewer_id
    if viewer is not None and viewer != key and await graph.has_blocked(ctx.stores, key, viewer):
        return None
    return doc
