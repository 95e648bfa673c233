"""Account types: `User`. (Extended by the accounts issue with the graph and viewer fields.)"""

from __future__ import annotations

from datetime import datetime

import strawberry
from bson import ObjectId

from core.ids import to_global_id
from resolvers.loaders import users_by_id
from schema.node import Node, register_node


@strawberry.type
class User(Node):
    doc: strawberry.Private[dict]

    @classmethod
    def from_doc(cls, doc: dict) -> User:
        return cls(id=strawberry.ID(to_global_id("User", doc["_id"])), doc=doc)

    @property
    def key(self) -> ObjectId:
        return self.doc["_id"]

    @strawberry.field
    def username(self) -> str:
        return self.doc["username"]

    @strawberry.field
    def full_name(self) -> str:
        return self.doc.get("full_name") or ""

    @strawberry.field
    def bio(self) -> str:
        return self.doc.get("bio") or ""

    @strawberry.field
    def website(self) -> str | None:
        return self.doc.get("website")

    @strawberry.field
    def is_private(self) -> bool:
        return bool(self.doc.get("is_private"))

    @strawberry.field
    def is_verified(self) -> bool:
        return bool(self.doc.get("is_verified"))

    @strawberry.field
    def follower_count(self) -> int:
        return int(self.doc.get("follower_count", 0))

    @strawberry.field
    def following_count(self) -> int:
        return int(self.doc.get("following_count", 0))

    @strawberry.field
    def post_count(self) -> int:
        return int(self.doc.get("post_count", 0))

    @strawberry.field
    def created_at(self) -> datetime:
        return self.doc["created_at"]


async def _fetch_user(context, key: ObjectId) -> User | None:
    doc = await context.loader(users_by_id).load(key)
    return User.from_doc(doc) if doc else None


register_node("User", _fetch_user)
