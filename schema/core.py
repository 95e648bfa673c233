"""Root fields that belong to no domain: `node`, the server clock, a heartbeat subscription."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from datetime import UTC, datetime

import strawberry
from strawberry.types import Info

from core.errors import BadInput
from schema.node import Node, resolve_node


@strawberry.type
class CoreQuery:
    @strawberry.field(description="Fetch any object by its global id.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        return await resolve_node(info.context, id)

    @strawberry.field(description="The server's clock, for clients that correct their own.")
    def server_time(self) -> datetime:
        return datetime.now(UTC)


@strawberry.type
class CoreSubscription:
    @strawberry.subscription(
        description="Ticks `count` times, `intervalMs` apart: a liveness check."
    )
    async def heartbeat(
        self, count: int = 3, interval_ms: int = 1000
    ) -> AsyncGenerator[datetime, None]:
        if not 1 <= count <= 100 or not 10 <= interval_ms <= 60_000:
            raise BadInput("count must be 1..100 and intervalMs 10..60000")
        for i in range(count):
            yield datetime.now(UTC)
            if i + 1 < count:
                await asyncio.sleep(interval_ms / 1000)
