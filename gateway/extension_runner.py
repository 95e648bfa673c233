"""Strawberry's schema-extension hooks, run without re-inspecting every extension per request.

For each of the four stages of every operation (operation, parse, validate, execute),
Strawberry's runner inspects each of the schema's ten extensions (is its hook overridden, is it
a generator, an async generator, a coroutine?), wraps each hook with `contextlib`'s decorators
(a `functools.update_wrapper` each) and enters them through an `(Async)ExitStack`: about a
tenth of a warm feed request's CPU. The answers depend only on the extension's class, so they
are worked out once per class here, and the hooks are driven directly.

The behaviour is Strawberry's (tests/unit/test_extension_runner.py runs both runners over the
same extensions and compares every call, result and exception): hooks enter in the schema's
order and unwind in reverse; a plain function hook runs on entry; an exception inside the stage
is thrown into each generator hook on the way out, which may replace it (a hook that swallows
it spares the hooks outside it, but the stage still raises it, as in Strawberry); a hook
failing on entry leaves the earlier ones unexited, as Strawberry's `ExitStack` does when its
`__aenter__` raises. Stream-result hooks (`@defer`/`@stream`) keep
Strawberry's own runner.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from enum import Enum
from types import TracebackType
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext


class _Kind(Enum):
    GENERATOR = 1
    ASYNC_GENERATOR = 2
    FUNCTION = 3
    COROUTINE = 4


_HookPlan = tuple[tuple[_Kind, Callable[..., Any]] | None, ...]
_PLANS: dict[tuple[type[SchemaExtension], str], tuple[_Kind, Callable[..., Any]] | None] = {}


def _plan_hook(cls: type[SchemaExtension], name: str) -> tuple[_Kind, Callable[..., Any]] | None:
    key = (cls, name)
    if key in _PLANS:
        return _PLANS[key]
    fn = getattr(cls, name)
    plan: tuple[_Kind, Callable[..., Any]] | None
    if fn is getattr(SchemaExtension, name):
        plan = None
    elif inspect.isgeneratorfunction(fn):
        plan = (_Kind.GENERATOR, fn)
    elif inspect.isasyncgenfunction(fn):
        plan = (_Kind.ASYNC_GENERATOR, fn)
    elif inspect.iscoroutinefunction(fn):
        plan = (_Kind.COROUTINE, fn)
    elif callable(fn):
        plan = (_Kind.FUNCTION, fn)
    else:
        raise ValueError(f"Hook {name} on {cls} must be callable, received {fn!r}")
    _PLANS[key] = plan
    return plan


def _exit_generator(gen: Any, exc: BaseException | None) -> bool:
    """contextlib's `_GeneratorContextManager.__exit__`: whether `exc` was swallowed."""
    if exc is None:
        try:
            next(gen)
        except StopIteration:
            return False
        raise RuntimeError("generator didn't stop")
    try:
        gen.throw(exc)
    except StopIteration as stop:
        return stop is not exc
    except RuntimeError as error:
        if error is exc:
            return False
        if isinstance(exc, StopIteration) and error.__cause__ is exc:
            return False
        raise
    except BaseException as error:
        if error is not exc:
            raise
        return False
    raise RuntimeError("generator didn't stop after throw()")


async def _exit_async_generator(gen: Any, exc: BaseException | None) -> bool:
    """contextlib's `_AsyncGeneratorContextManager.__aexit__`."""
    if exc is None:
        try:
            await gen.__anext__()
        except StopAsyncIteration:
            return False
        raise RuntimeError("generator didn't stop")
    try:
        await gen.athrow(exc)
    except StopAsyncIteration as stop:
        return stop is not exc
    except RuntimeError as error:
        if error is exc:
            return False
        if isinstance(exc, (StopIteration, StopAsyncIteration)) and error.__cause__ is exc:
            return False
        raise
    except BaseException as error:
        if error is not exc:
            raise
        return False
    raise RuntimeError("generator didn't stop after athrow()")


class _Stage:
    """One stage's hooks, entered with `async with` (or `with` by Strawberry's sync path)."""

    __slots__ = ("_entered", "_extensions", "_name", "_plans")

    def __init__(self, extensions: list[SchemaExtension], name: str, plans: _HookPlan) -> None:
        self._extensions = extensions
        self._name = name
        self._plans = plans
        self._entered: list[tuple[bool, Any]] = []  # (is_async, generator), in entry order

    def _enter_sync(self, extension: SchemaExtension, kind: _Kind, fn: Callable[..., Any]) -> None:
        if kind is _Kind.GENERATOR:
            gen = fn(extension)
            try:
                next(gen)
            except StopIteration:
                raise RuntimeError("generator didn't yield") from None
            self._entered.append((False, gen))
        else:
            fn(extension)

    async def __aenter__(self) -> None:
        for extension, plan in zip(self._extensions, self._plans, strict=True):
            if plan is None:
                continue
            kind, fn = plan
            if kind is _Kind.ASYNC_GENERATOR:
                gen = fn(extension)
                try:
                    await gen.__anext__()
                except StopAsyncIteration:
                    raise RuntimeError("generator didn't yield") from None
                self._entered.append((True, gen))
            elif kind is _Kind.COROUTINE:
                await fn(extension)
            else:
                self._enter_sync(extension, kind, fn)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        received = exc
        pending = exc
        for is_async, gen in reversed(self._entered):
            try:
                if is_async:
                    swallowed = await _exit_async_generator(gen, pending)
                else:
                    swallowed = _exit_generator(gen, pending)
            except BaseException as error:
                if pending is not None and error.__context__ is None and error is not pending:
                    error.__context__ = pending
                pending = error
                continue
            if swallowed:
                pending = None
        # Strawberry's context manager never reports the stage's exception as swallowed (it
        # drops its ExitStack's answer): a hook may replace the exception, not cancel it.
        if pending is not None and pending is not received:
            raise pending
        return False

    def __enter__(self) -> None:
        for extension, plan in zip(self._extensions, self._plans, strict=True):
            if plan is None:
                continue
            kind, fn = plan
            if kind in (_Kind.ASYNC_GENERATOR, _Kind.COROUTINE):
                raise RuntimeError(
                    f"SchemaExtension hook {extension}.{self._name} "
                    "failed to complete synchronously."
                )
            self._enter_sync(extension, kind, fn)

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool:
        # `__enter__` let only plain generators in, so `__aexit__` never suspends: run it to
        # its end here.
        unwinding = self.__aexit__(exc_type, exc, tb)
        try:
            unwinding.send(None)
        except StopIteration as done:
            return bool(done.value)
        unwinding.close()
        raise RuntimeError("an async hook in a synchronous stage")


_STAGES = ("on_operation", "on_parse", "on_validate", "on_execute")
# A schema's extension classes are fixed, so this holds one entry per schema (and per batch
# of DirectivesExtension), not per request.
_RUNNER_PLANS: dict[tuple[type[SchemaExtension], ...], dict[str, _HookPlan]] = {}


class PlannedExtensionsRunner(SchemaExtensionsRunner):
    def __init__(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension] | None = None
    ) -> None:
        super().__init__(execution_context, extensions)
        classes = tuple(type(e) for e in self.extensions)
        plans = _RUNNER_PLANS.get(classes)
        if plans is None:
            plans = {name: tuple(_plan_hook(c, name) for c in classes) for name in _STAGES}
            _RUNNER_PLANS[classes] = plans
        self._plans = plans

    def _stage(self, name: str) -> Any:
        return _Stage(self.extensions, name, self._plans[name])

    def operation(self) -> Any:
        return self._stage("on_operation")

    def parsing(self) -> Any:
        return self._stage("on_parse")

    def validation(self) -> Any:
        return self._stage("on_validate")

    def executing(self) -> Any:
        return self._stage("on_execute")


class GatewaySchema(strawberry.Schema):
    """Strawberry's Schema with the planned extension runner."""

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return PlannedExtensionsRunner(execution_context, extensions)
