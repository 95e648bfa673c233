"""gateway/extension_runner.py against Strawberry's own runner: the same extensions (every hook
kind, hooks that fail on entry or exit, replace or swallow the stage's exception) give the same
calls in the same order and the same outcome, for the async and the sync entry."""

from __future__ import annotations

import asyncio
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner

from gateway.extension_runner import PlannedExtensionsRunner

KINDS = ("generator", "async_generator", "function", "coroutine", "none")
BEHAVIOURS = ("plain", "fail_on_entry", "fail_on_exit", "swallow", "replace")


class Failure(Exception):
    pass


def _make(index: int, kind: str, behaviour: str, log: list[str]) -> type[SchemaExtension]:
    name = f"e{index}"

    def before() -> None:
        log.append(f"{name} enter")
        if behaviour == "fail_on_entry":
            raise Failure(f"{name} entry")

    def after(error: BaseException | None) -> None:
        log.append(f"{name} exit {type(error).__name__ if error else '-'}")
        if behaviour == "fail_on_exit" or (behaviour == "replace" and error is not None):
            raise Failure(f"{name} exit")

    def generator(self: Any) -> Any:
        before()
        try:
            yield
        except Exception as error:
            after(error)
            if behaviour != "swallow":
                raise
        else:
            after(None)

    async def async_generator(self: Any) -> Any:
        before()
        try:
            yield
        except Exception as error:
            after(error)
            if behaviour != "swallow":
                raise
        else:
            after(None)

    def function(self: Any) -> None:
        before()

    async def coroutine(self: Any) -> None:
        before()

    hooks = {
        "generator": generator,
        "async_generator": async_generator,
        "function": function,
        "coroutine": coroutine,
    }
    body: dict[str, Any] = {"__repr__": lambda self: name}
    if kind != "none":
        body["on_execute"] = hooks[kind]
    return type(name, (SchemaExtension,), body)


specs = st.lists(st.tuples(st.sampled_from(KINDS), st.sampled_from(BEHAVIOURS)), max_size=4)


def _run(runner_class: type, spec: list[tuple[str, str]], body_fails: bool, sync: bool):
    log: list[str] = []
    extensions = [_make(i, k, b, log)() for i, (k, b) in enumerate(spec)]
    runner = runner_class(execution_context=None, extensions=extensions)

    def body() -> None:
        log.append("body")
        if body_fails:
            raise Failure("body")

    outcome: str
    try:
        if sync:
            with runner.executing():
                body()
        else:

            async def go() -> None:
                async with runner.executing():
                    body()

            asyncio.run(go())
        outcome = "ok"
    except (Failure, RuntimeError) as error:
        outcome = f"{type(error).__name__}: {error}"
    return log, outcome


@settings(max_examples=300, deadline=None)
@given(spec=specs, body_fails=st.booleans())
def test_async_stages_match_strawberrys_runner(spec, body_fails) -> None:
    assert _run(PlannedExtensionsRunner, spec, body_fails, sync=False) == _run(
        SchemaExtensionsRunner, spec, body_fails, sync=False
    )


@settings(max_examples=200, deadline=None)
@given(spec=specs, body_fails=st.booleans())
def test_sync_stages_match_strawberrys_runner(spec, body_fails) -> None:
    assert _run(PlannedExtensionsRunner, spec, body_fails, sync=True) == _run(
        SchemaExtensionsRunner, spec, body_fails, sync=True
    )
