"""updateProfile: fullName, bio, website, isPrivate (the avatar belongs to the media domain)."""

from __future__ import annotations

from datetime import UTC, datetime

from bson import ObjectId

from core.events import Deps, emit
from datastore.accounts import UserDoc, update_user_fields
from services.account_lookup import load_viewer
from services.account_rules import check_bio, check_full_name, check_website
from services.answer_follow_request import approve_all_requests


async def update_profile(
    deps: Deps,
    viewer_id: ObjectId,
    *,
    full_name: str | None = None,
    bio: str | None = None,
    website: str | None = None,
    clear_website: bool = False,
    is_private: bool | None = None,
) -> UserDoc:
    """Change the given fields (None: leave as is). Every field is validated before anything
    is written, so a bad field changes nothing."""
    stores = deps.stores
    before = await load_viewer(stores, viewer_id)
    changes: dict[str, object] = {}
    if full_name is not None:
        changes["full_name"] = check_full_name(full_name)
    if bio is not None:
        changes["bio"] = check_bio(bio)
    if website is not None or clear_website:
        changes["website"] = check_website(website)
    if is_private is not None:
        changes["is_private"] = is_private
    if not changes:
        return before
    changes["updated_at"] = datetime.now(UTC)
    after = await update_user_fields(stores, viewer_id, changes)
    if after is None:
        return before
    # Every profile change, not only names: caches of user documents invalidate on it.
    await emit("user.profile_changed", deps, user_id=viewer_id)
    was_private = bool(before.get("is_private"))
    if is_private is not None and is_private != was_private:
        if not is_private:
            await approve_all_requests(deps, viewer_id)
            after = await load_viewer(stores, viewer_id)
        await emit("user.privacy_changed", deps, user_id=viewer_id, is_private=is_private)
    return after
