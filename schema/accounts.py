"""Account types (`User`, `AuthPayload`, ...) and the accounts root fields."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from bson import ObjectId
from strawberry.types import Info

from core.ids import to_global_id
from resolvers import accounts as r
from schema.connection import Connection
from schema.node import Node, build, register_node
from schema.posts import Media, MediaInput, Post, avatar_of, user_posts

if TYPE_CHECKING:
    from schema.interactions import ShareConnection

ShareConnectionRef = Annotated["ShareConnection", strawberry.lazy("schema.interactions")]


@strawberry.type
class User(Node):
    doc: strawberry.Private[dict]
    # Plain attributes filled by `from_doc`: Strawberry resolves them on its "basic field" path
    # (no Info object, no argument parsing), which halves their cost on list pages.
    username: str
    full_name: str
    bio: str
    website: str | None
    is_private: bool
    is_verified: bool
    follower_count: int
    following_count: int
    post_count: int
    created_at: datetime
    avatar: Media | None = strawberry.field(
        description="Profile picture (square renditions), or null."
    )

    @classmethod
    def from_doc(cls, doc: dict) -> User:
        get = doc.get
        return build(
            cls,
            {
                "id": to_global_id("User", doc["_id"]),
                "doc": doc,
                "username": doc["username"],
                "full_name": get("full_name") or "",
                "bio": get("bio") or "",
                "website": get("website"),
                "is_private": bool(get("is_private")),
                "is_verified": bool(get("is_verified")),
                "follower_count": int(get("follower_count", 0)),
                "following_count": int(get("following_count", 0)),
                "post_count": int(get("post_count", 0)),
                "created_at": doc["created_at"],
                "avatar": avatar_of(doc),
            },
        )

    @property
    def key(self) -> ObjectId:
        return self.doc["_id"]

    @strawberry.field(
        description="READY posts, newest first (the profile grid); empty when the viewer may "
        "not see this account's content."
    )
    async def posts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Post]:
        return await user_posts(info, self.doc, first, after)

    @strawberry.field(description="The account's email; only the account itself sees it.")
    def email(self, info: Info) -> str | None:
        return self.doc.get("email") if info.context.viewer_id == self.key else None

    @strawberry.field(description="Does the viewer follow this user?")
    async def is_followed_by_viewer(self, info: Info) -> bool:
        return await r.resolve_is_followed_by_viewer(info.context, self.doc)

    @strawberry.field(description="Does this user follow the viewer?")
    async def follows_viewer(self, info: Info) -> bool:
        return await r.resolve_follows_viewer(info.context, self.doc)

    @strawberry.field(description="Is the viewer's follow request to this user pending?")
    async def viewer_has_requested(self, info: Info) -> bool:
        return await r.resolve_viewer_has_requested(info.context, self.doc)

    @strawberry.field(description="Has the viewer blocked this user?")
    async def is_blocked_by_viewer(self, info: Info) -> bool:
        return await r.resolve_is_blocked_by_viewer(info.context, self.doc)

    @strawberry.field(
        description="May the viewer see this user's posts and lists (private accounts, blocks)?"
    )
    async def viewer_can_see_content(self, info: Info) -> bool:
        return await r.resolve_viewer_can_see_content(info.context, self.doc)

    @strawberry.field(
        description="Followers, newest first. Null with FORBIDDEN when the viewer may not see "
        "them (a private account the viewer does not follow, or a block)."
    )
    async def followers(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[User] | None:
        page = await r.resolve_graph_list(info.context, self.doc, "followers", first, after)
        return Connection[User].from_page(page, User.from_doc)

    @strawberry.field(description="Accounts this user follows, newest first. Same rules.")
    async def following(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[User] | None:
        page = await r.resolve_graph_list(info.context, self.doc, "following", first, after)
        return Connection[User].from_page(page, User.from_doc)

    @strawberry.field(
        description="Pending requests to follow this (private) account, newest first. Only the "
        "account itself may read them."
    )
    async def follow_requests(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[User] | None:
        page = await r.resolve_follow_requests(info.context, self.doc, first, after)
        return Connection[User].from_page(page, User.from_doc)

    @strawberry.field(
        description="Posts others shared with this user, newest first; only the user sees it."
    )
    async def shared_with_me(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> ShareConnectionRef | None:
        from schema.interactions import shared_with_me

        return await shared_with_me(info, self.key, first, after)


async def _fetch_user(context, key: ObjectId) -> User | None:
    doc = await r.resolve_node_user(context, key)
    return User.from_doc(doc) if doc else None


register_node("User", _fetch_user)


# --- auth ----------------------------------------------------------------------------------


@strawberry.type(description="A new session: tokens and the account they belong to.")
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User

    @classmethod
    def from_result(cls, result: r.AuthResult) -> AuthPayload:
        return cls(
            access_token=result.access_token,
            refresh_token=result.refresh_token,
            expires_in=result.expires_in,
            user=User.from_doc(result.user),
        )


@strawberry.input
class RegisterInput:
    username: str
    email: str
    password: str
    full_name: str | None = None


@strawberry.input
class LoginInput:
    login: str = strawberry.field(description="Username or email.")
    password: str


@strawberry.input
class UpdateProfileInput:
    full_name: str | None = strawberry.UNSET
    bio: str | None = strawberry.UNSET
    website: str | None = strawberry.UNSET
    is_private: bool | None = strawberry.UNSET
    avatar: MediaInput | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new avatar (file or uploadId), or null to remove it.",
    )


@strawberry.enum
class FollowStatus(Enum):
    FOLLOWING = "FOLLOWING"
    REQUESTED = "REQUESTED"


@strawberry.type
class FollowPayload:
    status: FollowStatus
    user: User


@strawberry.type
class AccountsQuery:
    @strawberry.field(description="The authenticated user, or null when anonymous.")
    async def viewer(self, info: Info) -> User | None:
        doc = await r.resolve_viewer(info.context)
        return User.from_doc(doc) if doc else None

    @strawberry.field(description="A user by id or by username (exactly one).")
    async def user(
        self, info: Info, id: strawberry.ID | None = None, username: str | None = None
    ) -> User | None:
        return User.from_doc(await r.resolve_user(info.context, id, username))


@strawberry.type
class AccountsMutation:
    @strawberry.mutation
    async def register(self, info: Info, input: RegisterInput) -> AuthPayload:
        result = await r.resolve_register(
            info.context, input.username, input.email, input.password, input.full_name
        )
        return AuthPayload.from_result(result)

    @strawberry.mutation
    async def login(self, info: Info, input: LoginInput) -> AuthPayload:
        return AuthPayload.from_result(
            await r.resolve_login(info.context, input.login, input.password)
        )

    @strawberry.mutation(description="Spend a refresh token for a new pair (rotation).")
    async def refresh_token(self, info: Info, refresh_token: str) -> AuthPayload:
        return AuthPayload.from_result(await r.resolve_refresh(info.context, refresh_token))

    @strawberry.mutation(description="Revoke the refresh token's session.")
    async def logout(self, info: Info, refresh_token: str) -> bool:
        return await r.resolve_logout(info.context, refresh_token)

    @strawberry.mutation(description="Change profile fields; omitted fields stay as they are.")
    async def update_profile(self, info: Info, input: UpdateProfileInput) -> User:
        fields: dict[str, object] = {}
        if input.full_name is not strawberry.UNSET:
            fields["full_name"] = input.full_name or ""
        if input.bio is not strawberry.UNSET:
            fields["bio"] = input.bio or ""
        if input.website is not strawberry.UNSET:
            fields["website"] = input.website
            fields["clear_website"] = not input.website
        if input.is_private is not strawberry.UNSET and input.is_private is not None:
            fields["is_private"] = input.is_private
        doc = None
        if input.avatar is not strawberry.UNSET:
            # Through the media pipeline (square renditions); null removes the avatar.
            from resolvers.posts import resolve_set_avatar

            avatar = input.avatar
            doc = await resolve_set_avatar(
                info.context,
                avatar.file if avatar else None,
                avatar.upload_id if avatar else None,
            )
        if fields or doc is None:
            doc = await r.resolve_update_profile(info.context, fields)
        return User.from_doc(doc)

    @strawberry.mutation(description="Follow a user; a private account gets a request instead.")
    async def follow(self, info: Info, user_id: strawberry.ID) -> FollowPayload:
        result = await r.resolve_follow(info.context, user_id)
        return FollowPayload(status=FollowStatus(result.status), user=User.from_doc(result.user))

    @strawberry.mutation(description="Stop following (or withdraw a request). Idempotent.")
    async def unfollow(self, info: Info, user_id: strawberry.ID) -> User:
        return User.from_doc(await r.resolve_unfollow(info.context, user_id))

    @strawberry.mutation(description="Accept a pending follow request; returns the requester.")
    async def approve_follow_request(self, info: Info, user_id: strawberry.ID) -> User:
        return User.from_doc(await r.resolve_approve(info.context, user_id))

    @strawberry.mutation(description="Decline a pending follow request; returns the requester.")
    async def reject_follow_request(self, info: Info, user_id: strawberry.ID) -> User:
        return User.from_doc(await r.resolve_reject(info.context, user_id))

    @strawberry.mutation(description="Block a user: removes follows and requests both ways.")
    async def block(self, info: Info, user_id: strawberry.ID) -> User:
        return User.from_doc(await r.resolve_block(info.context, user_id))

    @strawberry.mutation
    async def unblock(self, info: Info, user_id: strawberry.ID) -> User:
        return User.from_doc(await r.resolve_unblock(info.context, user_id))
