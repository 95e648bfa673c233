"""Relay cursor connections: `{ edges { cursor node } pageInfo { ... } nodes }`.

`Connection[Post]` is named `PostConnection` in the schema, `Edge[Post]` `PostEdge`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from core.pagination import Page

T = TypeVar("T")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = False
    start_cursor: str | None = None


@strawberry.type
class Edge(Generic[T]):
    cursor: str
    node: T


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo

    @strawberry.field(description="The nodes of `edges`, for clients that need no cursors.")
    def nodes(self) -> list[T]:
        return [edge.node for edge in self.edges]

    @classmethod
    def from_page(cls, page: Page[Any], wrap: Callable[[Any], T]) -> Connection[T]:
        edges = [
            Edge(cursor=c, node=wrap(item))
            for item, c in zip(page.items, page.cursors, strict=True)
        ]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                end_cursor=page.cursors[-1] if page.cursors else None,
                start_cursor=page.cursors[0] if page.cursors else None,
            ),
        )
