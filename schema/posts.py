"""Posts and media: `Post`, `Media`, `Location`, uploads, and the posts root fields.

`Post` wraps a post document (`Post.from_doc`, `doc` is private) like `User` does, so other
domains add fields to it (viewerHasLiked, likers, comments) next to these.
"""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from bson import ObjectId
from strawberry.file_uploads import Upload
from strawberry.types import Info

from core.ids import to_global_id
from core.pagination import Page
from resolvers import posts as r
from schema.connection import Connection
from schema.node import Node, build, register_node
from services.create_post import LocationArg
from services.edit_post import KEEP

if TYPE_CHECKING:
    from schema.accounts import User
    from schema.interactions import CommentConnection

UserRef = Annotated["User", strawberry.lazy("schema.accounts")]
CommentConnectionRef = Annotated["CommentConnection", strawberry.lazy("schema.interactions")]


@strawberry.enum
class PostStatus(Enum):
    PROCESSING = "PROCESSING"
    READY = "READY"
    FAILED = "FAILED"


@strawberry.enum
class MediaType(Enum):
    PHOTO = "PHOTO"
    VIDEO = "VIDEO"


# Stored value -> member: a dict lookup is a tenth of an Enum call, and a feed page makes 60.
_STATUSES = {m.value: m for m in PostStatus}
_MEDIA_TYPES = {m.value: m for m in MediaType}


@strawberry.enum(description="Encoding of an image rendition.")
class ImageFormat(Enum):
    WEBP = "image/webp"
    JPEG = "image/jpeg"


@strawberry.type(description="One stored size of a media item.")
class Rendition:
    raw: strawberry.Private[dict]

    @strawberry.field
    def width(self) -> int:
        return self.raw["width"]

    @strawberry.field
    def height(self) -> int:
        return self.raw["height"]

    @strawberry.field
    def content_type(self) -> str:
        return self.raw["content_type"]

    @strawberry.field(description="The same as contentType (a MIME type).")
    def mime_type(self) -> str:
        return self.raw["content_type"]

    @strawberry.field(description="Video renditions: average bits per second (audio included).")
    def bitrate(self) -> int | None:
        return self.raw.get("bitrate")

    @strawberry.field(description="Presigned GET (or a CDN URL under MEDIA_PUBLIC_BASE_URL).")
    def url(self, info: Info) -> str:
        return r.media_url(info.context, self.raw) or ""


def _renditions(items: list[dict], fmt: ImageFormat | None) -> list[Rendition]:
    return [Rendition(raw=x) for x in items if fmt is None or x["content_type"] == fmt.value]


@strawberry.type(description="A photo or video of a post (or an avatar).")
class Media:
    item: strawberry.Private[dict]
    # Plain attributes (Strawberry's cheap "basic field" path), filled by `of`.
    type: MediaType
    width: int = strawberry.field(description="Displayed width (EXIF orientation applied).")
    height: int = strawberry.field(description="Displayed height (EXIF orientation applied).")
    blurhash: str | None = strawberry.field(
        description="Placeholder to paint while the image loads."
    )

    @classmethod
    def of(cls, item: dict) -> Media:
        return build(
            cls,
            {
                "item": item,
                "type": _MEDIA_TYPES[item["type"]],
                "width": int(item["width"]),
                "height": int(item["height"]),
                "blurhash": item.get("blurhash"),
            },
        )

    @strawberry.field(
        description="Photo: the rendition nearest `width` (the smallest at least that wide, "
        "else the widest) in `format`. Video: the H.264 MP4 rendition nearest `width`."
    )
    def url(
        self, info: Info, width: int | None = None, format: ImageFormat = ImageFormat.WEBP
    ) -> str | None:
        content_type = "video/mp4" if self.item["type"] == "VIDEO" else format.value
        return r.url_for(info.context, self.item.get("renditions") or [], width, content_type)

    @strawberry.field(description="Stored renditions; photos in one `format` if given.")
    def renditions(self, format: ImageFormat | None = None) -> list[Rendition]:
        items = self.item.get("renditions") or []
        return _renditions(items, None if self.item["type"] == "VIDEO" else format)

    @strawberry.field(description="Square thumbnail (profile grid).")
    def thumbnail(self) -> Rendition | None:
        thumb = self.item.get("thumbnail")
        return Rendition(raw=thumb) if thumb else None

    @strawberry.field
    def duration_seconds(self) -> float | None:
        return self.item.get("duration_seconds")

    @strawberry.field(description="Video only: duration in milliseconds.")
    def duration_ms(self) -> int | None:
        ms = self.item.get("duration_ms")
        if ms is None and self.item.get("duration_seconds") is not None:
            ms = round(self.item["duration_seconds"] * 1000)
        return ms

    @strawberry.field(description="Video only: the HLS master playlist (adaptive streaming).")
    def hls_url(self, info: Info) -> str | None:
        return r.hls_url(info.context, self.item)

    @strawberry.field(
        description="Video only: a short silent MP4 (a few seconds, small) to loop in the feed."
    )
    def preview_url(self, info: Info) -> str | None:
        key = self.item.get("preview_key")
        return r.media_url(info.context, {"key": key}) if key else None

    @strawberry.field(description="Video only: the poster frame nearest `width`.")
    def poster_url(
        self, info: Info, width: int | None = None, format: ImageFormat = ImageFormat.WEBP
    ) -> str | None:
        posters = self.item.get("poster_renditions") or []
        return r.url_for(info.context, posters, width, format.value) if posters else None

    @strawberry.field(description="Video only: poster frame renditions.")
    def poster_renditions(self, format: ImageFormat | None = None) -> list[Rendition]:
        return _renditions(self.item.get("poster_renditions") or [], format)

    @strawberry.field(description="Video only: the codec of the video track.")
    def codec(self) -> str | None:
        return self.item.get("codec")


@strawberry.type(description="A place posts are tagged with.")
class Location(Node):
    doc: strawberry.Private[dict]

    @classmethod
    def from_doc(cls, doc: dict) -> Location:
        key = doc.get("id") or doc.get("_id")
        return cls(id=strawberry.ID(to_global_id("Location", key)), doc=doc)

    @strawberry.field
    def name(self) -> str:
        return self.doc["name"]

    @strawberry.field
    def lat(self) -> float | None:
        return self.doc.get("lat")

    @strawberry.field
    def lng(self) -> float | None:
        return self.doc.get("lng")

    @strawberry.field(description="READY posts tagged here.")
    async def post_count(self, info: Info) -> int:
        return await r.resolve_location_post_count(info.context, self.doc)

    @strawberry.field(description="READY posts tagged here that the viewer may see, newest first.")
    async def posts(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[Post]:
        # schema.search imports this module, so its resolver is imported when first used.
        from schema.search import location_posts

        return await location_posts(info, self.doc, first, after)


@strawberry.type
class Post(Node):
    doc: strawberry.Private[dict]
    # The author's document when the list resolver fetched every author of its page in one
    # read (`author_loaded`); otherwise `author` goes through the dataloader.
    author_doc: strawberry.Private[dict | None] = None
    author_loaded: strawberry.Private[bool] = False
    # Plain attributes filled by `from_doc`: Strawberry resolves them on its "basic field" path
    # (no Info object, no argument parsing), a third of a feed page's execution time.
    created_at: datetime
    published_at: datetime | None = strawberry.field(description="When the post became READY.")
    updated_at: datetime
    status: PostStatus
    failure_reason: str | None = strawberry.field(
        description="Why processing failed (FAILED only)."
    )
    caption: str
    hashtags: list[str] = strawberry.field(
        description="Hashtag names, normalized (NFC, lowercase), without '#'."
    )
    mentions: list[str] = strawberry.field(
        description="Mentioned usernames, normalized, without '@'."
    )
    location: Location | None
    media: list[Media]
    like_count: int
    comment_count: int
    share_count: int

    @classmethod
    def from_doc(cls, doc: dict, author: dict | None = None, author_loaded: bool = False) -> Post:
        loc = doc.get("location")
        get = doc.get
        return build(
            cls,
            {
                "id": to_global_id("Post", doc["_id"]),
                "doc": doc,
                "author_doc": author,
                "author_loaded": author_loaded,
                "created_at": doc["created_at"],
                "published_at": get("published_at"),
                "updated_at": get("updated_at") or doc["created_at"],
                "status": _STATUSES[doc["status"]],
                "failure_reason": get("failure_reason"),
                "caption": get("caption") or "",
                # Shared with the cached document, which nothing downstream mutates.
                "hashtags": get("hashtags") or [],
                "mentions": get("mentions") or [],
                "location": Location.from_doc(loc) if loc else None,
                "media": [Media.of(m) for m in get("media") or ()],
                "like_count": int(get("like_count", 0)),
                "comment_count": int(get("comment_count", 0)),
                "share_count": int(get("share_count", 0)),
            },
        )

    @property
    def key(self) -> ObjectId:
        return self.doc["_id"]

    @strawberry.field
    def author(self, info: Info) -> UserRef | None:
        # Not `async def`: a prefetched author completes synchronously, which spares the
        # executor a coroutine and a gather per post; otherwise this returns an awaitable.
        from schema.accounts import User

        if self.author_loaded:
            return User.from_doc(self.author_doc) if self.author_doc else None
        return _load_author(info, self.doc)

    # Interactions (schema/interactions.py) -------------------------------------------------
    @strawberry.field(description="Does the viewer like this post? One query per page of posts.")
    async def viewer_has_liked(self, info: Info) -> bool:
        from schema.interactions import post_viewer_has_liked

        return await post_viewer_has_liked(info, self.doc)

    @strawberry.field(description="Who likes this post, newest first.")
    async def likers(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[UserRef]:
        from schema.interactions import post_likers

        return await post_likers(info, self.doc, first, after)

    @strawberry.field(description="Top-level comments, oldest first, each with its replyCount.")
    async def comments(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> CommentConnectionRef:
        from schema.interactions import post_comments

        return await post_comments(info, self.doc, first, after)


@strawberry.type
class HttpHeader:
    name: str
    value: str


@strawberry.type(description="Where and how to PUT a file; then pass uploadId to createPost.")
class UploadTicket:
    upload_id: strawberry.ID
    url: str
    headers: list[HttpHeader]
    expires_at: datetime


@strawberry.input
class CreateUploadUrlInput:
    content_type: str = strawberry.field(
        description="image/jpeg|png|webp|heic, video/mp4|quicktime"
    )
    size: int = strawberry.field(description="Bytes the client will PUT.")


@strawberry.input(description="Exactly one of `file` (multipart) and `uploadId`.")
class MediaInput:
    file: Upload | None = None
    upload_id: strawberry.ID | None = None


@strawberry.input
class LocationInput:
    name: str
    lat: float | None = None
    lng: float | None = None

    def to_arg(self) -> LocationArg:
        return LocationArg(self.name, self.lat, self.lng)


@strawberry.input
class CreatePostInput:
    media: list[MediaInput]
    caption: str | None = None
    location: LocationInput | None = None


@strawberry.input(description="Omitted fields stay; null clears (caption, location).")
class EditPostInput:
    id: strawberry.ID
    caption: str | None = strawberry.UNSET
    location: LocationInput | None = strawberry.UNSET


@strawberry.type
class PostsQuery:
    @strawberry.field(description="A post, if the viewer may see it (others see READY only).")
    async def post(self, info: Info, id: strawberry.ID) -> Post | None:
        doc = await r.resolve_post_by_global_id(info.context, id)
        return Post.from_doc(doc) if doc else None


@strawberry.type
class PostsMutation:
    @strawberry.mutation(description="A presigned PUT URL for one file; expires with the ticket.")
    async def create_upload_url(self, info: Info, input: CreateUploadUrlInput) -> UploadTicket:
        t = await r.resolve_create_upload_url(info.context, input.content_type, input.size)
        return UploadTicket(
            upload_id=strawberry.ID(to_global_id("Upload", t.upload_id)),
            url=t.url,
            headers=[HttpHeader(name=k, value=v) for k, v in t.headers.items()],
            expires_at=t.expires_at,
        )

    @strawberry.mutation(description="Returns at once with status PROCESSING; READY follows.")
    async def create_post(self, info: Info, input: CreatePostInput) -> Post:
        items = [(m.file, m.upload_id) for m in input.media]
        location = input.location.to_arg() if input.location else None
        doc = await r.resolve_create_post(info.context, items, input.caption, location)
        return Post.from_doc(doc)

    @strawberry.mutation(description="Change caption and/or location (author only).")
    async def edit_post(self, info: Info, input: EditPostInput) -> Post:
        caption = KEEP if input.caption is strawberry.UNSET else input.caption
        location = (
            KEEP
            if input.location is strawberry.UNSET
            else (input.location.to_arg() if input.location else None)
        )
        return Post.from_doc(await r.resolve_edit_post(info.context, input.id, caption, location))

    @strawberry.mutation(description="Delete a post and its media (author only).")
    async def delete_post(self, info: Info, id: strawberry.ID) -> bool:
        return await r.resolve_delete_post(info.context, id)

    @strawberry.mutation(
        description="Set the viewer's avatar from a file or an upload (neither: remove it). "
        "Square renditions; the same pipeline as posts."
    )
    async def set_avatar(self, info: Info, input: MediaInput) -> UserRef:
        from schema.accounts import User

        return User.from_doc(await r.resolve_set_avatar(info.context, input.file, input.upload_id))


async def _fetch_post(context, key: ObjectId) -> Post | None:
    doc = await r.resolve_post(context, key)
    return Post.from_doc(doc) if doc else None


register_node("Post", _fetch_post)


async def _fetch_location(context, key: ObjectId) -> Location | None:
    doc = await context.loader(r.locations_by_id).load(key)
    return Location.from_doc(doc) if doc else None


register_node("Location", _fetch_location)


async def user_posts(info: Info, owner: dict, first: int | None, after: str | None):
    """`User.posts`: the profile grid."""
    page = await r.resolve_user_posts(info.context, owner, first, after)
    return Connection[Post].from_page(page, lambda doc: Post.from_doc(doc, owner, True))


async def post_connection(info: Info, page: Page[dict]) -> Connection[Post]:
    """A page of posts with every author read in one batch up front (a feed or search page
    nearly always shows them), so `Post.author` completes without a coroutine per post."""
    authors = getattr(page, "authors", None)  # a feed page brings its authors (FeedPage)
    if not authors or any(p["author_id"] not in authors for p in page.items):
        authors = await r.authors_of(info.context, page.items)
    return Connection[Post].from_page(
        page, lambda doc: Post.from_doc(doc, authors.get(doc["author_id"]), True)
    )


def avatar_of(user_doc: dict) -> Media | None:
    """`User.avatar`."""
    avatar = user_doc.get("avatar")
    return Media.of(avatar) if avatar else None


async def _load_author(info: Info, post: dict) -> User | None:
    from schema.accounts import User

    doc = await r.resolve_author(info.context, post)
    return User.from_doc(doc) if doc else None
