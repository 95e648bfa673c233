"""The `Node` interface and `node(id:)`: every object with an identity has an opaque global id.

Each domain registers how to fetch its node types with `register_node`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from core.ids import from_global_id, parse_object_id

NodeFetcher = Callable[[Any, Any], Awaitable[Any]]  # (context, ObjectId) -> strawberry object
_FETCHERS: dict[str, NodeFetcher] = {}


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID


def register_node(type_name: str, fetch: NodeFetcher) -> None:
    _FETCHERS[type_name] = fetch


async def resolve_node(context: Any, global_id: str) -> Any:
    type_name, key = from_global_id(global_id)
    fetch = _FETCHERS.get(type_name)
    if fetch is None:
        return None
    return await fetch(context, parse_object_id(key))
