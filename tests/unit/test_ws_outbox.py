"""The per-socket outbox's rules (realtime/outbox.py), the `postUpdated` fan-out plan
(gateway/ws_handler.py), and the Strawberry internals the handler subclass relies on."""

from __future__ import annotations

import asyncio
import inspect

from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)

from core.ids import to_global_id
from gateway.ws_handler import fanout_plan
from realtime.outbox import SLOW_CONSUMER_CLOSE_CODE, Outbox, OutboxLimits


class Socket:
    """A socket whose writes wait until `release` is set, as a peer that stopped reading."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed: list[int] = []
        self.release = asyncio.Event()
        self.changed = asyncio.Condition()

    async def send(self, text: str) -> None:
        await self.release.wait()
        async with self.changed:
            self.sent.append(text)
            self.changed.notify_all()

    async def close(self, code: int, reason: str) -> None:
        async with self.changed:
            self.closed.append(code)
            self.changed.notify_all()

    async def until(self, predicate) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), 10)


async def test_a_newer_state_replaces_the_queued_one_and_order_is_kept() -> None:
    sock = Socket()
    box = Outbox(sock.send, sock.close, OutboxLimits(max_queued=8, keepalive_seconds=0))
    box.offer("first")  # being written (blocked)
    await asyncio.sleep(0)
    box.offer("ack")
    for n in range(5):
        box.offer(f"post {n}", key="op1")
    box.offer("notification")
    assert len(box) == 3 and box.dropped == 4
    sock.release.set()
    await sock.until(lambda: len(sock.sent) >= 4)
    assert sock.sent == ["first", "ack", "post 4", "notification"]
    box.shutdown()


async def test_past_the_bound_keyed_messages_go_first_then_the_socket_closes() -> None:
    sock = Socket()
    box = Outbox(sock.send, sock.close, OutboxLimits(max_queued=3, keepalive_seconds=0))
    box.offer("blocked")
    await asyncio.sleep(0)
    box.offer("a", key="op1")
    box.offer("b", key="op2")
    box.offer("n1")
    assert box.offer("n2")  # drops "a", the oldest droppable one
    assert box.offer("n3")  # drops "b"
    assert box.dropped == 2 and not box.closed
    assert not box.offer("n4")  # only must-deliver messages left: a slow consumer
    await sock.until(lambda: sock.closed)
    assert box.closed and sock.closed == [SLOW_CONSUMER_CLOSE_CODE]


async def test_a_write_stalled_past_the_limit_closes_the_socket() -> None:
    sock = Socket()
    box = Outbox(sock.send, sock.close, OutboxLimits(stall_seconds=0.2, keepalive_seconds=0))
    box.offer("never read")
    await sock.until(lambda: sock.closed)  # the sweeper runs every stall/4 seconds
    assert sock.closed == [SLOW_CONSUMER_CLOSE_CODE]


def test_the_plan_shares_viewer_independent_documents_only() -> None:
    pid = to_global_id("Post", "0123456789abcdef01234567")
    shared = fanout_plan(
        "subscription($id: ID!) { postUpdated(postId: $id) { id likeCount ...C } }"
        " fragment C on Post { commentCount }",
        {"id": pid},
        None,
    )
    assert shared is not None and shared.shared
    personal = fanout_plan(
        f'subscription {{ postUpdated(postId: "{pid}") {{ likeCount viewerHasLiked }} }}',
        None,
        None,
    )
    assert personal is not None and not personal.shared
    nested = fanout_plan(
        "subscription($id: ID!) { postUpdated(postId: $id) { author { username } } }",
        {"id": pid},
        None,
    )
    assert nested is not None and not nested.shared
    # Anything else takes Strawberry's ordinary path.
    assert fanout_plan("subscription { notificationAdded { id } }", None, None) is None
    assert (
        fanout_plan("subscription($id: ID!) { postUpdated(postId: $id) { id } }", {}, None) is None
    )
    assert fanout_plan("subscription { postUpdated(postId: 3) { id } }", None, None) is None
    assert fanout_plan("subscription {", None, None) is None


def test_the_strawberry_internals_the_handler_relies_on() -> None:
    """gateway/ws_handler.py overrides `run_operation`, `send_message` and `shutdown` of
    Strawberry 0.341's handler and calls these; a new Strawberry must be checked against it."""
    base = BaseGraphQLTransportWSHandler
    for name in (
        "run_operation",
        "send_message",
        "shutdown",
        "_handle_pre_execution_error",
        "_reject_incremental_delivery",
        "cleanup_operation",
    ):
        assert inspect.iscoroutinefunction(getattr(base, name)), name
    assert list(inspect.signature(base.run_operation).parameters) == ["self", "operation"]
    for name in ("send_next", "send_operation_message"):
        assert inspect.iscoroutinefunction(getattr(Operation, name)), name
    assert {"id", "query", "variables", "operation_name", "task"} <= set(Operation.__slots__)
