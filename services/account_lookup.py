"""Loading accounts for the graph verbs: by `_id` (a primary-key read on FerretDB)."""

from __future__ import annotations

from bson import ObjectId

from core.errors import NotFound, Unauthenticated
from datastore.accounts import UserDoc, find_user
from datastore.stores import Stores


async def load_viewer(stores: Stores, viewer_id: ObjectId) -> UserDoc:
    """The acting user's document; a valid token for a deleted account is UNAUTHENTICATED."""
    doc = await find_user(stores, viewer_id)
    if doc is None:
        raise Unauthenticated("Your account no longer exists")
    return doc


async def load_user(stores: Stores, user_id: ObjectId) -> UserDoc:
    doc = await find_user(stores, user_id)
    if doc is None:
        raise NotFound("No such user")
    return doc
