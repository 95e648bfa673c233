"""The `Node` interface and `node(id:)`: every object with an identity has an opaque global id.

Each domain registers how to fetch its node types with `register_node`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from core.ids import from_global_id, parse_object_id

NodeFetcher = Callable[[Any, Any], Awaitable[Any]]  # (context, ObjectId) -> strawberry object
_FETCHERS: dict[str, NodeFetcher] = {}


@strawberry.interface(description="An object with a global id.")
class Node:
    id: strawberry.ID


T = TypeVar("T")


def build(cls: type[T], values: dict[str, Any]) -> T:
    """An instance of a Strawberry type from the values of all its fields, bypassing the
    dataclass `__init__` (keyword binding and defaults are a third of `Post.from_doc` on a feed
    page). The caller passes every field: tests/unit/test_type_builders.py checks the builders."""
    obj = object.__new__(cls)
    obj.__dict__ = values
    return obj


def register_node(type_name: str, fetch: NodeFetcher) -> None:
    _FETCHERS[type_name] = fetch


async def resolve_node(context: Any, global_id: str) -> Any:
    type_name, key = from_global_id(global_id)
    fetch = _FETCHERS.get(type_name)
    if fetch is None:
        return None
    return await fetch(context, parse_object_id(key))
