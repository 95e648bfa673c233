"""A bounded, never-blocking send queue per WebSocket, and one sweeper per process that closes
sockets stalled past a limit and sends keep-alive pings.

Why: a subscriber that stops reading must not hold up anybody else. Producers (the post
fan-out, other subscriptions, protocol replies) only `offer` text; one writer task per socket,
alive only while there is something to write, awaits the socket. Messages that carry a state
(a post's latest counts) have a key: a newer one replaces the queued one instead of queueing
behind it, so a slow reader gets the latest state and skips intermediate ones. Past `max_queued`
messages the oldest keyed message is dropped; when only unkeyed ones are left, the socket is
closed as a slow consumer, as it is when one write has been waiting longer than
`stall_seconds` (its TCP window stayed shut).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger("realtime.outbox")

# Close codes (application range 4000-4999; the graphql-transport-ws protocol uses 44xx).
SLOW_CONSUMER_CLOSE_CODE = 4008
SLOW_CONSUMER_REASON = "slow consumer"
PING = '{"type":"ping"}'


@dataclass(frozen=True)
class OutboxLimits:
    max_queued: int = 64
    stall_seconds: float = 10.0
    keepalive_seconds: float = 20.0


Send = Callable[[str], Awaitable[None]]
TrySend = Callable[[str], bool]
Close = Callable[[int, str], Awaitable[None]]


class Outbox:
    __slots__ = (
        "__weakref__",
        "_close",
        "_keyed",
        "_limits",
        "_queue",
        "_send",
        "_try_send",
        "_writer",
        "closed",
        "dropped",
        "last_active",
        "sending_since",
    )

    def __init__(
        self, send: Send, close: Close, limits: OutboxLimits, try_send: TrySend | None = None
    ) -> None:
        """`try_send`, when the server allows it, writes at once without waiting (False when it
        cannot: the socket's buffer is full); it spares the common case a task and the ASGI
        send chain, which at 10,000 sockets per event is most of the cost."""
        self._send = send
        self._try_send = try_send
        self._close = close
        self._limits = limits
        self._queue: deque[list[str | None]] = deque()  # [key, text]; key None: must deliver
        self._keyed: dict[str, list[str | None]] = {}
        self._writer: asyncio.Task[None] | None = None
        self.closed = False
        self.dropped = 0  # superseded or dropped keyed messages (latest wins)
        self.sending_since: float | None = None  # monotonic start of the write under way
        self.last_active = time.monotonic()  # last offer: idle sockets get keep-alive pings
        _SWEEPER.watch(self, limits)

    def __len__(self) -> int:
        return len(self._queue)

    def offer(self, text: str, key: str | None = None) -> bool:
        """Queue `text`; never waits. False when the socket is (being) closed."""
        if self.closed:
            return False
        self.last_active = time.monotonic()
        if key is not None:
            queued = self._keyed.get(key)
            if queued is not None:
                queued[1] = text  # the newer state replaces the one still waiting
                self.dropped += 1
                return True
        if (
            not self._queue
            and self._writer is None
            and self._try_send is not None
            and self._try_send(text)
        ):
            return True
        if len(self._queue) >= self._limits.max_queued and not self._drop_oldest_keyed():
            self.fail()
            return False
        entry: list[str | None] = [key, text]
        self._queue.append(entry)
        if key is not None:
            self._keyed[key] = entry
        if self._writer is None:
            self._writer = asyncio.create_task(self._drain())
        return True

    def _drop_oldest_keyed(self) -> bool:
        for entry in self._queue:
            if entry[0] is not None:
                self._queue.remove(entry)
                del self._keyed[entry[0]]
                self.dropped += 1
                return True
        return False

    async def _drain(self) -> None:
        try:
            while self._queue and not self.closed:
                key, text = self._queue.popleft()
                if key is not None:
                    self._keyed.pop(key, None)
                self.sending_since = time.monotonic()
                await self._send(text)  # type: ignore[arg-type]
                self.sending_since = None
        except asyncio.CancelledError:
            pass
        except Exception as exc:  # the socket went away: nothing more to deliver
            log.debug("websocket write failed: %s", exc)
            self.closed = True
        finally:
            self.sending_since = None
            self._writer = None

    def stalled(self, now: float) -> bool:
        since = self.sending_since
        return since is not None and now - since > self._limits.stall_seconds

    def fail(self) -> None:
        """Close the socket as a slow consumer (from any caller; the close runs in a task)."""
        if self.closed:
            return
        self.closed = True
        self._queue.clear()
        self._keyed.clear()
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
        log.info("closing a websocket that cannot keep up (%s)", SLOW_CONSUMER_CLOSE_CODE)
        _count_slow_close()
        task = asyncio.create_task(self._close(SLOW_CONSUMER_CLOSE_CODE, SLOW_CONSUMER_REASON))
        _BACKGROUND.add(task)
        task.add_done_callback(_BACKGROUND.discard)

    def shutdown(self) -> None:
        """The connection ended: drop what is queued, stop writing."""
        self.closed = True
        self._queue.clear()
        self._keyed.clear()
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None


_BACKGROUND: set[asyncio.Task[None]] = set()
_slow_close_hooks: list[Callable[[], None]] = []


def on_slow_close(hook: Callable[[], None]) -> None:
    """Register a counter (the gateway's metric) called on every slow-consumer close."""
    _slow_close_hooks.append(hook)


def _count_slow_close() -> None:
    for hook in _slow_close_hooks:
        with contextlib.suppress(Exception):
            hook()


class _Sweeper:
    """One task per process (not one per socket: 10,000 idle sockets cost no timers) that
    closes stalled sockets and queues graphql-transport-ws pings."""

    def __init__(self) -> None:
        self._boxes: weakref.WeakSet[Outbox] = weakref.WeakSet()
        self._task: asyncio.Task[None] | None = None
        self._period = 1.0
        self._keepalive = 20.0

    def watch(self, box: Outbox, limits: OutboxLimits) -> None:
        self._boxes.add(box)
        self._period = max(0.05, min(1.0, limits.stall_seconds / 4))
        self._keepalive = limits.keepalive_seconds
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        while self._boxes:
            await asyncio.sleep(self._period)
            now = time.monotonic()
            idle_since = now - self._keepalive if self._keepalive > 0 else float("-inf")
            for box in list(self._boxes):
                if box.closed:
                    continue
                if box.stalled(now):
                    box.fail()
                elif box.last_active <= idle_since:
                    box.offer(PING, key="\0ping")


_SWEEPER = _Sweeper()
