"""The ceiling: the feed query's shape served from static in-memory data by the same server setup
as the app, so the real feed can be reported as a fraction of what our stack allows here:
Starlette under uvicorn, two workers, the app's view class (gateway.view.GatewayGraphQL: orjson
encodes responses and decodes request bodies) and the app's parse and validation caches
(gateway.errors.CodedParserCache, gateway.validation_cache.TextValidationCache, 512 entries
each, as schema/root.py configures them).

Types mirror schema/posts.py and schema/accounts.py for the fields the bench asks, built the same
way: value fields are plain attributes (Strawberry's basic-field path), `author` is a plain
resolver (the app prefetches a page's authors), `url(width:)` takes an argument; `feed` returns
a Relay connection of 20 posts. Media URLs are fixed strings (the app signs them once per
window). No database, no auth, no other gateway extensions or middleware.

    uvicorn bench.ceiling:app --workers 2

GRAPHQL_EXECUTOR=compiled (the default, as in the app) serves it with
`gateway.compiled.CompiledExecutionContext`, `standard` with graphql-core's own executor.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from enum import Enum

import strawberry
from starlette.applications import Starlette
from starlette.routing import Route
from strawberry.schema.config import StrawberryConfig

from gateway.compiled import CompiledExecutionContext
from gateway.errors import CodedParserCache
from gateway.validation_cache import TextValidationCache
from gateway.view import GatewayGraphQL


@strawberry.type
class Media:
    item: strawberry.Private[dict]

    @strawberry.field
    def url(self, width: int | None = None) -> str | None:
        return self.item["url"]


@strawberry.type
class User:
    doc: strawberry.Private[dict]
    id: strawberry.ID
    username: str

    @strawberry.field
    def avatar(self) -> Media | None:
        return Media(item=self.doc["avatar"]) if self.doc.get("avatar") else None


@strawberry.type
class Post:
    doc: strawberry.Private[dict]
    id: strawberry.ID
    caption: str
    created_at: datetime
    like_count: int
    comment_count: int

    @strawberry.field
    def media(self) -> list[Media]:
        return [Media(item=m) for m in self.doc["media"]]

    @strawberry.field
    def author(self) -> User | None:
        a = self.doc["author"]
        return User(doc=a, id=strawberry.ID(a["id"]), username=a["username"])


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class PostEdge:
    cursor: str
    node: Post


@strawberry.type
class PostConnection:
    edges: list[PostEdge]
    page_info: PageInfo


@strawberry.enum
class FeedOrder(Enum):
    RECENT = "RECENT"
    RANKED = "RANKED"


def _posts() -> list[dict]:
    now = datetime.now(UTC)
    out = []
    for i in range(50):
        author = {
            "id": f"VXNlcjo2NjAwMDAwMDAwMDAwMDAwMDAwMDAwM{i % 10}",
            "username": f"user{i % 10:06d}",
            "avatar": {"url": f"http://127.0.0.1:39000/bench-media/avatars/{i % 10}/150.webp"},
        }
        out.append(
            {
                "id": f"UG9zdDo2NjAwMDAwMDAwMDAwMDAwMDAwMDAw{i:02d}",
                "caption": "sunset coffee beach city friends weekend",
                "created_at": now - timedelta(minutes=i),
                "like_count": 100 - i,
                "comment_count": i % 7,
                "media": [{"url": f"http://127.0.0.1:39000/bench-media/posts/{i}/0/640.webp"}],
                "author": author,
            }
        )
    return out


POSTS = _posts()


def _post(p: dict) -> Post:
    return Post(
        doc=p,
        id=strawberry.ID(p["id"]),
        caption=p["caption"],
        created_at=p["created_at"],
        like_count=p["like_count"],
        comment_count=p["comment_count"],
    )


@strawberry.type
class Query:
    @strawberry.field
    async def feed(
        self,
        first: int | None = 20,
        after: str | None = None,
        order: FeedOrder = FeedOrder.RECENT,
    ) -> PostConnection:
        n = first or 20
        edges = [PostEdge(cursor=f"c{i}", node=_post(p)) for i, p in enumerate(POSTS[:n])]
        return PostConnection(edges=edges, page_info=PageInfo(has_next_page=True, end_cursor="c"))


def choose_executor(wanted: str | None = None) -> tuple[type | None, str]:
    """(execution context class, or None for graphql-core's; the executor's name) for
    GRAPHQL_EXECUTOR=compiled|standard (default compiled)."""
    wanted = (wanted or os.environ.get("GRAPHQL_EXECUTOR") or "compiled").strip().lower()
    if wanted == "compiled":
        return CompiledExecutionContext, "compiled"
    return None, "standard"


EXECUTION_CONTEXT, EXECUTOR = choose_executor()
schema = strawberry.Schema(
    query=Query,
    config=StrawberryConfig(auto_camel_case=True),
    extensions=[lambda: CodedParserCache(maxsize=512), lambda: TextValidationCache(maxsize=512)],
    execution_context_class=EXECUTION_CONTEXT,
)
app = Starlette(routes=[Route("/graphql", GatewayGraphQL(schema), methods=["GET", "POST"])])
