"""Relay cursor connections: `{ edges { cursor node } pageInfo { ... } nodes }`.

`Connection[Post]` is named `PostConnection` in the schema, `Edge[Post]` `PostEdge`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

import strawberry

from core.pagination import Page

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = False
    # The page's cursors, for `startCursor` (signed only when asked for).
    cursors: strawberry.Private[Sequence[str]] = ()

    @strawberry.field
    def start_cursor(self) -> str | None:
        return self.cursors[0] if self.cursors else None


@strawberry.type
class Edge(Generic[T]):
    node: T
    # The page's cursors and this edge's place in them: a cursor is signed only when asked for
    # (core/pagination.py LazyCursors).
    cursors: strawberry.Private[Sequence[str]] = ()
    index: strawberry.Private[int] = 0

    @strawberry.field
    def cursor(self) -> str:
        return self.cursors[self.index]


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @classmethod
    def from_page(cls, page: Page[Any], wrap: Callable[[Any], T]) -> Connection[T]:
        cursors = page.cursors
        if len(cursors) != len(page.items):
            raise ValueError("a page needs one cursor per item")
        edges = [
            Edge(node=wrap(item), cursors=cursors, index=i) for i, item in enumerate(page.items)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                end_cursor=cursors[-1] if cursors else None,
                cursors=cursors,
            ),
        )
