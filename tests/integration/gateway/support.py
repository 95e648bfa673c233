"""A few root fields only the gateway tests add to the real schema: a user-like type with a
`followers` connection that builds pages in memory (so a cost bomb has something to aim at),
a field that fails (masked INTERNAL errors), and a field that counts its resolutions."""

from __future__ import annotations

import strawberry

from core.pagination import Page
from schema.connection import Connection

RESOLVED = {"count": 0}


@strawberry.type
class GwPerson:
    name: str

    @strawberry.field
    def followers(self, first: int | None = None, after: str | None = None) -> Connection[GwPerson]:
        RESOLVED["count"] += 1
        n = 2 if first is None else min(first, 3)
        items = [GwPerson(name=f"{self.name}.{i}") for i in range(n)]
        return Connection.from_page(
            Page(items=items, cursors=[str(i) for i in range(n)], has_next=False),
            lambda p: p,
        )


@strawberry.type
class GatewayTestQuery:
    @strawberry.field
    def gw_person(self) -> GwPerson:
        RESOLVED["count"] += 1
        return GwPerson(name="root")

    @strawberry.field
    def gw_people(self, first: int | None = None) -> Connection[GwPerson]:
        RESOLVED["count"] += 1
        return GwPerson(name="all").followers(first)

    @strawberry.field
    def gw_boom(self) -> int:
        raise RuntimeError("a bug in a resolver")


def nested_followers(levels: int, first: int = 50) -> str:
    inner = "name"
    for _ in range(levels):
        inner = f"followers(first: {first}) {{ nodes {{ {inner} }} }}"
    return f"{{ gwPerson {{ {inner} }} }}"
