"""Likes, comments, shares, notifications and the real-time subscriptions.

Types: `Comment`, `Notification`, `Share`, `FeedUpdate`; root fields in `InteractionsQuery`,
`InteractionsMutation` and `InteractionsSubscription` (listed in schema/root.py). The Post
fields `viewerHasLiked`, `likers` and `comments` and `User.sharedWithMe` call the helpers at the
end of this module.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from bson import ObjectId
from strawberry.types import Info

from core.ids import to_global_id
from resolvers import interactions as r
from schema.accounts import User
from schema.connection import Connection
from schema.node import Node, register_node

if TYPE_CHECKING:
    from schema.posts import Post

LazyPost = Annotated["Post", strawberry.lazy("schema.posts")]


def _post(doc: dict | None) -> Post | None:
    from schema.posts import Post

    return Post.from_doc(doc) if doc is not None else None


@strawberry.enum
class NotificationType(Enum):
    LIKE = "LIKE"
    COMMENT = "COMMENT"
    FOLLOW = "FOLLOW"
    FOLLOW_REQUEST = "FOLLOW_REQUEST"
    MENTION = "MENTION"
    SHARE = "SHARE"


@strawberry.type
class Comment(Node):
    doc: strawberry.Private[dict]

    @classmethod
    def from_doc(cls, doc: dict) -> Comment:
        return cls(id=strawberry.ID(to_global_id("Comment", doc["_id"])), doc=doc)

    @strawberry.field
    def text(self) -> str:
        return self.doc["text"]

    @strawberry.field
    def created_at(self) -> datetime:
        return self.doc["created_at"]

    @strawberry.field(description="How many replies this comment has (top-level comments only).")
    def reply_count(self) -> int:
        return int(self.doc.get("reply_count", 0))

    @strawberry.field
    async def author(self, info: Info) -> User | None:
        users = await r.load_users(info.context, [self.doc["author_id"]])
        return User.from_doc(users[0]) if users else None

    @strawberry.field(description="The top-level comment this one replies to, if it is a reply.")
    async def reply_to(self, info: Info) -> Comment | None:
        parent_id = self.doc.get("reply_to_id")
        if parent_id is None:
            return None
        doc = await r.load_comment(info.context, parent_id)
        return Comment.from_doc(doc) if doc else None

    @strawberry.field
    async def post(self, info: Info) -> LazyPost | None:
        return _post(await r.load_post(info.context, self.doc["post_id"]))

    @strawberry.field(description="Replies, oldest first.")
    async def replies(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> CommentConnection:
        page = await r.resolve_replies(info.context, self.doc, first, after)
        return CommentConnection.from_page(page, Comment.from_doc)


@strawberry.type
class CommentConnection(Connection[Comment]):
    pass


@strawberry.type
class Notification(Node):
    doc: strawberry.Private[dict]

    @classmethod
    def from_doc(cls, doc: dict) -> Notification:
        return cls(id=strawberry.ID(to_global_id("Notification", doc["_id"])), doc=doc)

    @strawberry.field
    def type(self) -> NotificationType:
        return NotificationType(self.doc["type"])

    @strawberry.field
    def created_at(self) -> datetime:
        return self.doc["created_at"]

    @strawberry.field(description="When an actor last joined this (grouped) notification.")
    def updated_at(self) -> datetime:
        return self.doc["updated_at"]

    @strawberry.field
    def read(self) -> bool:
        return bool(self.doc.get("read"))

    @strawberry.field(description='How many people did this ("alice and 3 others": 4).')
    def actor_count(self) -> int:
        return int(self.doc.get("actor_count", 0))

    @strawberry.field(description="Who did it, most recent first.")
    async def actors(self, info: Info, first: int = 3) -> list[User]:
        newest_first = list(reversed(self.doc.get("actor_ids") or []))[: max(0, min(first, 50))]
        return [User.from_doc(u) for u in await r.load_users(info.context, newest_first)]

    @strawberry.field
    async def post(self, info: Info) -> LazyPost | None:
        return _post(await r.load_post(info.context, self.doc.get("post_id")))

    @strawberry.field
    async def comment(self, info: Info) -> Comment | None:
        comment_id = self.doc.get("comment_id")
        doc = await r.load_comment(info.context, comment_id) if comment_id else None
        return Comment.from_doc(doc) if doc else None


@strawberry.type
class NotificationConnection(Connection[Notification]):
    pass


@strawberry.type(description="A post someone sent to the viewer.")
class Share(Node):
    doc: strawberry.Private[dict]

    @classmethod
    def from_doc(cls, doc: dict) -> Share:
        return cls(id=strawberry.ID(to_global_id("Share", doc["_id"])), doc=doc)

    @strawberry.field
    def created_at(self) -> datetime:
        return self.doc["created_at"]

    @strawberry.field
    async def sender(self, info: Info) -> User | None:
        users = await r.load_users(info.context, [self.doc["sender_id"]])
        return User.from_doc(users[0]) if users else None

    @strawberry.field
    async def post(self, info: Info) -> LazyPost | None:
        return _post(await r.load_post(info.context, self.doc["post_id"]))


@strawberry.type
class ShareConnection(Connection[Share]):
    pass


@strawberry.type(description="New posts are waiting at the top of the viewer's feed.")
class FeedUpdate:
    new_post_count: int
    latest_post: LazyPost | None


@strawberry.input
class AddCommentInput:
    post_id: strawberry.ID
    text: str
    reply_to_id: strawberry.ID | None = None


@strawberry.type
class InteractionsQuery:
    @strawberry.field(description="The viewer's notifications, most recent activity first.")
    async def notifications(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> NotificationConnection:
        page = await r.resolve_notifications(info.context, first, after)
        return NotificationConnection.from_page(page, Notification.from_doc)

    @strawberry.field
    async def unread_notification_count(self, info: Info) -> int:
        return await r.resolve_unread_count(info.context)


@strawberry.type
class InteractionsMutation:
    @strawberry.mutation(description="Like a post (liking it again changes nothing).")
    async def like_post(self, info: Info, post_id: strawberry.ID) -> LazyPost:
        return _post(await r.resolve_like(info.context, post_id))

    @strawberry.mutation(description="Take a like back (unliking twice changes nothing).")
    async def unlike_post(self, info: Info, post_id: strawberry.ID) -> LazyPost:
        return _post(await r.resolve_unlike(info.context, post_id))

    @strawberry.mutation(description="Comment on a post (1 to 2,200 characters), or reply.")
    async def add_comment(self, info: Info, input: AddCommentInput) -> Comment:
        return Comment.from_doc(
            await r.resolve_add_comment(info.context, input.post_id, input.text, input.reply_to_id)
        )

    @strawberry.mutation(description="Delete a comment: its author or the post's author may.")
    async def delete_comment(self, info: Info, id: strawberry.ID) -> bool:
        return await r.resolve_delete_comment(info.context, id)

    @strawberry.mutation(description="Send a post to other users' share inbox.")
    async def share_post(
        self, info: Info, post_id: strawberry.ID, to_user_ids: list[strawberry.ID]
    ) -> LazyPost:
        return _post(await r.resolve_share(info.context, post_id, list(to_user_ids)))

    @strawberry.mutation(
        description="Mark read the notification `upTo` and every older one (all when omitted);"
        " returns how many changed."
    )
    async def mark_notifications_read(self, info: Info, up_to: strawberry.ID | None = None) -> int:
        return await r.resolve_mark_read(info.context, up_to)


@strawberry.type
class InteractionsSubscription:
    @strawberry.subscription(description="The viewer's notifications as they happen.")
    async def notification_added(self, info: Info) -> AsyncGenerator[Notification, None]:
        async for doc in r.notification_stream(info.context):
            yield Notification.from_doc(doc)

    @strawberry.subscription(
        description="The post now, then again whenever its like, comment or share count "
        "changes; ends when the viewer may no longer see it."
    )
    async def post_updated(
        self, info: Info, post_id: strawberry.ID
    ) -> AsyncGenerator[LazyPost, None]:
        async for doc in r.post_stream(info.context, post_id):
            yield _post(doc)

    @strawberry.subscription(description="New posts are waiting at the top of the viewer's feed.")
    async def feed_updated(self, info: Info) -> AsyncGenerator[FeedUpdate, None]:
        async for item in r.feed_stream(info.context):
            yield FeedUpdate(
                new_post_count=item["new_post_count"], latest_post=_post(item["latest_post"])
            )


# --- fields other domains' types expose ----------------------------------------------------
async def post_viewer_has_liked(info: Info, post_doc: dict) -> bool:
    return await r.resolve_viewer_has_liked(info.context, post_doc)


async def post_likers(
    info: Info, post_doc: dict, first: int | None, after: str | None
) -> Connection[User]:
    page = await r.resolve_likers(info.context, post_doc, first, after)
    return Connection[User].from_page(page, User.from_doc)


async def post_comments(
    info: Info, post_doc: dict, first: int | None, after: str | None
) -> CommentConnection:
    page = await r.resolve_comments(info.context, post_doc, first, after)
    return CommentConnection.from_page(page, Comment.from_doc)


async def shared_with_me(
    info: Info, user_id: ObjectId, first: int | None, after: str | None
) -> ShareConnection | None:
    page = await r.resolve_shared_with_me(info.context, user_id, first, after)
    return ShareConnection.from_page(page, Share.from_doc) if page is not None else None


async def _fetch_comment(context, key: ObjectId) -> Comment | None:
    doc = await r.load_visible_comment(context, key)
    return Comment.from_doc(doc) if doc else None


async def _fetch_notification(context, key: ObjectId) -> Notification | None:
    doc = await r.load_notification(context, key)
    return Notification.from_doc(doc) if doc else None


register_node("Comment", _fetch_comment)
register_node("Notification", _fetch_notification)
