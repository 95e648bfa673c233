"""The graphql-transport-ws handler: every message leaves through the socket's outbox (never
blocking the sender), and `postUpdated` subscriptions join the process's post fan-out instead of
running one generator and one GraphQL execution each (realtime/fanout.py, docs/realtime.md).

A `postUpdated` subscription still starts on Strawberry's own path (validation, cost limits,
the visibility check and the first snapshot, errors as before); from then on its updates are
rendered once per group of subscribers that would get the same payload: same document,
variables and operation name, and the same viewer only when the document selects a field whose
value depends on who asks (anything outside `_SHARED_FIELDS`, e.g. `viewerHasLiked`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
from dataclasses import dataclass
from typing import Any

import orjson
from bson import ObjectId
from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    execute,
    parse,
)
from prometheus_client import Counter
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import CompleteMessage
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing
from websockets.protocol import State

from core.errors import AppError
from core.ids import decode_id
from gateway.metrics import SUBSCRIPTIONS
from realtime.fanout import Member, get_fanout
from realtime.outbox import Outbox, OutboxLimits, on_slow_close

_PROTOCOL = "ws_server_protocol"
# Post fields whose value is the same for every viewer allowed to see the post.
_SHARED_FIELDS = frozenset(
    {
        "__typename",
        "id",
        "createdAt",
        "publishedAt",
        "updatedAt",
        "status",
        "caption",
        "hashtags",
        "mentions",
        "likeCount",
        "commentCount",
        "shareCount",
    }
)

RENDERS = Counter(
    "photogram_realtime_renders",
    "postUpdated payloads rendered by the fan-out (one per group of subscribers per event).",
)
SLOW_CLOSES = Counter(
    "photogram_websocket_slow_consumer_closes_total",
    "WebSocket connections closed because they could not keep up (code 4008).",
)
on_slow_close(SLOW_CLOSES.inc)


class WebSocketTransportMiddleware:
    """Outermost middleware: remembers the server's protocol object of a WebSocket connection
    (uvicorn's `send` is its bound method), so that a socket whose peer stopped reading can be
    aborted (a close frame cannot get through a shut TCP window), and so that the fan-out can
    write a frame at once when the socket's buffer has room (`_direct_writer`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            protocol = getattr(send, "__self__", None)
            if getattr(protocol, "transport", None) is not None:
                scope.setdefault("state", {})[_PROTOCOL] = protocol
        await self.app(scope, receive, send)


# What uvicorn's websockets-sansio protocol (0.54) has: its `send` for `websocket.send` is
# `await writable.wait()`, then `conn.send_text` and `transport.write` of `conn.data_to_send()`.
_SANSIO = ("conn", "transport", "writable", "close_sent", "disconnected", "handshake_complete")


def _direct_writer(protocol: Any):
    """A synchronous `try_send` for uvicorn's websockets-sansio protocol: the same frame its
    `send` would write, written now, or False when it would have to wait (buffer full, closing)
    or the server is another one (then every message takes the ordinary ASGI path)."""
    if protocol is None or not all(hasattr(protocol, a) for a in _SANSIO):
        return None

    def try_send(text: str) -> bool:
        p = protocol
        if (
            p.disconnected
            or p.close_sent
            or not p.handshake_complete
            or not p.writable.is_set()
            or p.transport.is_closing()
        ):
            return False
        data = text.encode()
        if p.conn.extensions or p.conn.state is not State.OPEN:
            # Compression negotiated (or closing): websockets frames it.
            try:
                p.conn.send_text(data)
            except Exception:
                return False
            p.transport.write(b"".join(p.conn.data_to_send()))
        else:
            p.transport.write(_text_frame(data))
        return True

    return try_send


def _text_frame(data: bytes) -> bytes:
    """One unmasked, unfragmented text frame (RFC 6455 5.2), as a server sends it: what
    websockets' `send_text` writes without extensions, at a fraction of its cost per socket."""
    n = len(data)
    if n < 126:
        return bytes((0x81, n)) + data
    if n < 1 << 16:
        return b"\x81\x7e" + n.to_bytes(2, "big") + data
    return b"\x81\x7f" + n.to_bytes(8, "big") + data


@dataclass(frozen=True)
class _FanoutPlan:
    post_id: ObjectId
    document: Any
    shared: bool  # the payload is the same for every viewer allowed to see the post


def _selections_shared(selection_set: SelectionSetNode | None, fragments: dict) -> bool:
    if selection_set is None:
        return True
    for sel in selection_set.selections:
        if isinstance(sel, FieldNode):
            if sel.name.value not in _SHARED_FIELDS or sel.selection_set is not None:
                return False
        elif isinstance(sel, InlineFragmentNode):
            if not _selections_shared(sel.selection_set, fragments):
                return False
        elif isinstance(sel, FragmentSpreadNode):
            frag = fragments.get(sel.name.value)
            if frag is None or not _selections_shared(frag.selection_set, fragments):
                return False
        if sel.directives:
            return False
    return True


@functools.lru_cache(maxsize=256)
def _parse(query: str) -> Any:
    # One AST per distinct document, shared by its thousands of subscribers.
    return parse(query)


def fanout_plan(query: str, variables: dict | None, operation_name: str | None):
    """A plan when the operation is exactly one `postUpdated(postId:)` subscription field; None
    sends it down Strawberry's ordinary path (which also reports any mistake in it)."""
    try:
        document = _parse(query)
    except GraphQLError:
        return None
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        ops = [o for o in ops if o.name is not None and o.name.value == operation_name]
    if len(ops) != 1 or ops[0].operation != OperationType.SUBSCRIPTION:
        return None
    fields = ops[0].selection_set.selections
    if len(fields) != 1 or not isinstance(fields[0], FieldNode):
        return None
    field = fields[0]
    if field.name.value != "postUpdated" or field.directives or len(field.arguments) != 1:
        return None
    value = field.arguments[0].value
    if isinstance(value, VariableNode):
        raw = (variables or {}).get(value.name.value)
    elif isinstance(value, StringValueNode):
        raw = value.value
    else:
        return None
    if not isinstance(raw, str):
        return None
    try:
        post_id = decode_id(raw, "Post")
    except AppError:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _FanoutPlan(post_id, document, _selections_shared(field.selection_set, fragments))


class PhotogramTransportWSHandler(BaseGraphQLTransportWSHandler):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        settings = self.context.stores.settings
        self._protocol = self.websocket.ws.scope.get("state", {}).get(_PROTOCOL)
        self.outbox = Outbox(
            self._write,
            self._close_slow,
            OutboxLimits(
                max_queued=settings.ws_outbox_max_messages,
                stall_seconds=settings.ws_stall_seconds,
                keepalive_seconds=settings.ws_keepalive_seconds,
            ),
            _direct_writer(self._protocol),
        )

    async def _write(self, text: str) -> None:
        await self.websocket.ws.send_text(text)

    async def _close_slow(self, code: int, reason: str) -> None:
        transport = getattr(self._protocol, "transport", None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.websocket.close(code=code, reason=reason), 1.0)
        if transport is not None:
            # The close frame may sit behind a full buffer forever: give it a moment, then
            # drop the connection, which ends this handler as a disconnect does.
            asyncio.get_running_loop().call_later(2.0, transport.abort)

    async def send_message(self, message: Any) -> None:
        self.outbox.offer(self.view.encode_json(message))

    async def shutdown(self) -> None:
        try:
            await super().shutdown()
        finally:
            self.outbox.shutdown()

    async def run_operation(self, operation: Operation) -> None:
        plan = fanout_plan(operation.query, operation.variables, operation.operation_name)
        viewer = getattr(self.context, "viewer_id", None)
        if plan is None or viewer is None:
            await super().run_operation(operation)
            return
        fanout = get_fanout(self.context.stores)
        variables = operation.variables or {}
        group = (
            operation.query,
            orjson.dumps(variables, option=orjson.OPT_SORT_KEYS),
            operation.operation_name,
            None if plan.shared else viewer,
        )
        member = Member(
            viewer,
            group,
            operation.id,
            self.outbox,
            self._renderer(plan, variables, operation.operation_name),
            '{"id":' + orjson.dumps(operation.id).decode() + ',"type":"next","payload":',
        )
        live = False
        try:
            await fanout.join(plan.post_id, member)
            if not await self._snapshot(operation):
                return
            # The snapshot's Strawberry operation has ended (and counted itself out of the
            # gauge); the subscription lives on here.
            SUBSCRIPTIONS.inc()
            live = True
            fanout.activate(plan.post_id, member)
            await member.done
            await operation.send_operation_message(
                CompleteMessage(id=operation.id, type="complete")
            )
        finally:
            if live:
                SUBSCRIPTIONS.dec()
            await asyncio.shield(fanout.leave(plan.post_id, member))

    async def _snapshot(self, operation: Operation) -> bool:
        """Strawberry's own first result (validation, limits, visibility); True when the
        subscription goes on."""
        source = await self.schema.stream(
            operation.query,
            variable_values=operation.variables,
            context_value=self.context,
            root_value=self.root_value,
            operation_name=operation.operation_name,
        )
        async with aclosing(source):
            async for result in source:
                if isinstance(result, PreExecutionError):
                    try:
                        await self._handle_pre_execution_error(operation, result)
                    except Exception:  # Strawberry's "stream closed": the socket is closing
                        self.operations.pop(operation.id, None)
                    return False
                if not isinstance(result, ExecutionResult):
                    await self._reject_incremental_delivery(operation)
                    return False
                await operation.send_next(result)
                if result.errors and not result.data:
                    break
                return True
        await operation.send_operation_message(CompleteMessage(id=operation.id, type="complete"))
        return False

    def _renderer(self, plan: _FanoutPlan, variables: dict, operation_name: str | None):
        from schema.posts import Post

        schema = self.schema._schema  # type: ignore[attr-defined]
        context = self.context
        encode = self.view.encode_json

        async def render(doc: dict) -> str | None:
            RENDERS.inc()
            result = execute(
                schema,
                plan.document,
                root_value=Post.from_doc(doc),
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
            )
            if inspect.isawaitable(result):
                result = await result
            payload: dict[str, Any] = {"data": result.data}
            if result.errors:
                payload["errors"] = [e.formatted for e in result.errors]
            return encode(payload)

        return render
