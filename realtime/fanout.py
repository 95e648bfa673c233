"""Compute once, send many: a post's live subscribers in this process share one listener, one
read of the post and one visibility check per event, and one rendering per group.

Each subscriber is a `Member` with a group key chosen by the caller (the gateway: the operation
document, its variables, and the viewer only when the document selects something that depends
on who asks). On an event the topic re-reads the post once, asks once which of its viewers may
still see it (`audience.viewers_who_may_see`), ends the others' subscriptions, renders each
group's payload once through its first member, and offers the same text to every member's
outbox (`outbox.Outbox`, which never blocks). Events are coalesced: at most one rendering per
topic per `interval` seconds, always of the latest state (the first event after a quiet spell
goes out at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Hashable

from bson import ObjectId

from datastore.stores import Stores
from realtime.audience import viewers_who_may_see
from realtime.channels import listen, next_batch, post_channel
from realtime.outbox import Outbox
from services import interaction_queries as queries

log = logging.getLogger("realtime.fanout")

# The post document in, the `payload` of a graphql-transport-ws `next` message out (JSON text),
# or None to send nothing this time.
Render = Callable[[dict], Awaitable[str | None]]
# Sockets written per slice of a round before the loop serves others (about 10-20 ms here).
_SLICE = 1000


class Member:
    __slots__ = ("active", "done", "group", "head", "key", "outbox", "render", "seen", "viewer")

    def __init__(
        self,
        viewer: ObjectId,
        group: Hashable,
        op_id: str,
        outbox: Outbox,
        render: Render,
        head: str,
    ) -> None:
        self.viewer = viewer
        self.group = group
        self.outbox = outbox
        self.render = render
        self.key = op_id  # the outbox key: a newer state replaces a queued one
        self.head = head  # '{"id":...,"type":"next","payload":' for this operation
        self.active = False  # set once the subscription's first message went out
        self.seen = 0  # the topic's event count when the member joined
        self.done: asyncio.Future[str] = asyncio.get_running_loop().create_future()

    def end(self, why: str) -> None:
        if not self.done.done():
            self.done.set_result(why)


class _Topic:
    def __init__(self, fanout: PostFanout, post_id: ObjectId) -> None:
        self.fanout = fanout
        self.post_id = post_id
        self.members: set[Member] = set()
        self.last_flush = 0.0
        self.busy = 0.0  # how long the last rendering and sending took
        self.timer: asyncio.TimerHandle | None = None
        self.flushing: asyncio.Task[None] | None = None
        self.dirty = False
        self.sent: dict[Hashable, str] = {}  # each group's last payload: no repeats
        self.events = 0  # messages received, so a joining member can tell it missed one
        self.subscribed = asyncio.Event()
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        stores = self.fanout.stores
        async with listen(stores, post_channel(stores, self.post_id)) as queue:
            self.subscribed.set()
            while True:
                await next_batch(queue)
                self.events += 1
                self.schedule()

    def schedule(self) -> None:
        if self.flushing is not None:
            self.dirty = True  # the running flush read too early: run once more after it
            return
        if self.timer is not None:
            return  # already due: it will read the latest state
        # Under load the spacing grows with the cost of a round (at least half the time idle),
        # so a storm on a wide topic cannot saturate the process.
        spacing = max(self.fanout.interval, 2 * self.busy)
        wait = self.last_flush + spacing - time.monotonic()
        if wait <= 0:
            self._start()
        else:
            self.timer = asyncio.get_running_loop().call_later(wait, self._start)

    def _start(self) -> None:
        self.timer = None
        self.last_flush = time.monotonic()
        self.flushing = asyncio.create_task(self._flush())
        self.flushing.add_done_callback(self._flushed)

    def _flushed(self, task: asyncio.Task[None]) -> None:
        self.flushing = None
        self.busy = time.monotonic() - self.last_flush
        if self.busy > 0.5:
            log.info("fan-out to %d sockets took %.0f ms", len(self.members), self.busy * 1000)
        if not task.cancelled() and task.exception() is not None:
            log.warning("post fan-out failed: %s", task.exception())
        if self.dirty and self.members:
            self.dirty = False
            self.schedule()

    async def _flush(self) -> None:
        stores = self.fanout.stores
        post = await queries.current_post(stores, self.post_id)
        members = [m for m in self.members if m.active]
        if not members:
            return
        if post is None:
            for m in members:
                m.end("gone")  # deleted: every stream completes
            return
        visible = await viewers_who_may_see(stores, post, {m.viewer for m in members})
        groups: dict[Hashable, list[Member]] = {}
        for m in members:
            if m.viewer in visible:
                groups.setdefault(m.group, []).append(m)
            else:
                m.end("hidden")  # blocked, unfollowed, made private: the stream ends
        self.fanout.renders += len(groups)
        sent, self.sent = self.sent, {}
        for key, group in groups.items():
            payload = await group[0].render(post)
            if payload is None:
                continue
            self.sent[key] = payload
            if sent.get(key) == payload:
                continue  # an event already reflected by the last message: nothing new
            for i, m in enumerate(group, start=1):
                if m.active and not m.done.done():
                    m.outbox.offer(f"{m.head}{payload}}}", key=m.key)
                if i % _SLICE == 0:
                    await asyncio.sleep(0)  # let requests in between slices of a wide topic

    async def close(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
        for task in (self.reader, self.flushing):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task


class PostFanout:
    """The process's live `postUpdated` topics (one per post with local subscribers)."""

    def __init__(self, stores: Stores, interval: float) -> None:
        self.stores = stores
        self.interval = interval
        self.renders = 0  # groups rendered, for tests and the benchmark
        self._topics: dict[ObjectId, _Topic] = {}

    async def join(self, post_id: ObjectId, member: Member) -> None:
        """Add `member` (inactive) and wait until the topic's channel is subscribed, so
        nothing published after this returns is missed."""
        topic = self._topics.get(post_id)
        if topic is None:
            topic = self._topics[post_id] = _Topic(self, post_id)
        topic.members.add(member)
        member.seen = topic.events
        await asyncio.wait_for(asyncio.shield(topic.subscribed.wait()), 10)

    def activate(self, post_id: ObjectId, member: Member) -> None:
        """The member's first message went out: from now on it receives updates. If an event
        came between joining and now, the snapshot may predate it: the topic runs once more."""
        member.active = True
        topic = self._topics.get(post_id)
        if topic is not None and topic.events != member.seen:
            topic.sent.pop(member.group, None)  # its snapshot may be older than that
            topic.schedule()

    async def leave(self, post_id: ObjectId, member: Member) -> None:
        topic = self._topics.get(post_id)
        if topic is None:
            return
        topic.members.discard(member)
        if not topic.members:
            del self._topics[post_id]
            await topic.close()

    def members(self, post_id: ObjectId) -> int:
        topic = self._topics.get(post_id)
        return len(topic.members) if topic else 0


_FANOUTS: dict[tuple[int, int], PostFanout] = {}


def get_fanout(stores: Stores) -> PostFanout:
    """The fan-out for these stores on the running loop."""
    key = (id(stores), id(asyncio.get_running_loop()))
    fanout = _FANOUTS.get(key)
    if fanout is None:
        fanout = _FANOUTS[key] = PostFanout(stores, stores.settings.realtime_coalesce_ms / 1000)
    return fanout
