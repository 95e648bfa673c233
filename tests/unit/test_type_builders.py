"""`Post.from_doc`, `User.from_doc` and `Media.of` build instances without the dataclass
`__init__` (schema/node.py `build`): each must still give every field, as `__init__` would."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from bson import ObjectId

import schema.root  # noqa: F401  (resolves the lazy types)
from schema.accounts import User
from schema.posts import Media, Post, PostStatus

NOW = datetime(2026, 12, 1, tzinfo=UTC)
PHOTO = {"type": "PHOTO", "width": 1080, "height": 810, "renditions": []}


def _same_as_init(obj: object) -> None:
    cls = type(obj)
    names = {f.name for f in dataclasses.fields(cls) if f.init}
    assert set(vars(obj)) == names
    assert cls(**vars(obj)) == obj


def test_builders_give_every_field_as_init_would() -> None:
    user = {"_id": ObjectId(), "username": "ana", "created_at": NOW, "avatar": PHOTO}
    post = {
        "_id": ObjectId(),
        "author_id": user["_id"],
        "created_at": NOW,
        "status": "READY",
        "media": [PHOTO],
        "location": {"id": "abc", "name": "Lisbon"},
    }
    built_post = Post.from_doc(post, user, True)
    built_user = User.from_doc(user)
    for obj in (built_post, built_user, Media.of(PHOTO)):
        _same_as_init(obj)
    assert built_post.status is PostStatus.READY and built_post.caption == ""
    assert built_post.hashtags == [] and built_post.like_count == 0
    assert built_user.full_name == "" and built_user.avatar == Media.of(PHOTO)
