"""A feed 'world': one strategy's stores and queue, with jobs drained in-process."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId
from saq import Queue, Worker

from core.events import Deps, emit
from core.settings import Settings
from datastore.stores import Stores, open_stores
from feed.reader import FeedReader
from tests.support import factories
from worker.queue import make_queue
from worker.registry import load_all


@dataclass
class World:
    settings: Settings
    stores: Stores
    queue: Queue

    @property
    def deps(self) -> Deps:
        return Deps(self.stores, self.queue)

    async def drain(self) -> None:
        """Run queued jobs here until the queue is empty (saq's burst mode), so a test observes
        fan-out results deterministically."""
        stores, queue = self.stores, self.queue

        async def startup(ctx: dict[str, Any]) -> None:
            ctx.update(stores=stores, queue=queue, settings=stores.settings)

        jobs = load_all()
        worker = Worker(
            queue,
            functions=list(jobs.values()),
            concurrency=1,
            burst=True,
            dequeue_timeout=0.02,
            startup=startup,
        )
        await worker.start()

    async def read_all(self, viewer: ObjectId, page: int = 3) -> list[ObjectId]:
        """Every item of the viewer's RECENT feed, paging `page` at a time."""
        return await read_all(FeedReader(self.stores), viewer, page)

    async def close(self) -> None:
        await self.queue.disconnect()
        await self.stores.close()


async def read_all(reader: FeedReader, viewer: ObjectId, page: int) -> list[ObjectId]:
    """Every item of the viewer's RECENT feed through `reader`, paging `page` at a time."""
    out: list[ObjectId] = []
    after = None
    while True:
        result = await reader.recent(viewer, page, after)
        out += [d["_id"] for d in result.items]
        if not result.has_next:
            return out
        after = result.cursors[-1]


def world_of(app: Any) -> World:
    """The world of a running app (the `app` or `counted` fixture)."""
    return World(app.state.settings, app.state.stores, app.state.queue)


def open_world(settings: Settings, **overrides: Any) -> World:
    s = settings.model_copy(update=overrides)
    return World(s, open_stores(s), make_queue(s))


_clock = datetime(2026, 11, 1, tzinfo=UTC)


def next_time() -> datetime:
    """Distinct, increasing publish times (milliseconds apart), like real posts."""
    global _clock
    _clock += timedelta(seconds=1)
    return _clock


async def publish(world: World, author: ObjectId, **kw: Any) -> ObjectId:
    post_id = await factories.create_ready_post(world.stores, author, created_at=next_time(), **kw)
    await emit("post.ready", world.deps, post_id=post_id, author_id=author)
    return post_id


async def follow(world: World, follower: ObjectId, followee: ObjectId) -> None:
    await factories.follow(world.stores, follower, followee)
    await emit("user.followed", world.deps, follower_id=follower, followee_id=followee)
