"""The compiled executor: graphql-core's execution semantics, run from a plan.

`CompiledExecutionContext` is what Strawberry's `Schema(execution_context_class=...)` takes.
For a query it looks up (or compiles, gateway/compiled/plan.py) the operation's plan and runs
it; anything else (mutations, subscriptions, `@defer`/`@stream`, middleware, abort signals, an
operation the plan cannot express) runs on the standard executor for the whole operation.

Running a plan mirrors graphql-core 3.3's `execute_fields` / `complete_value` step for step:
the same order of resolver calls, the same grouping of awaitables (so dataloaders batch the
same way and errors are collected in the same order), and errors go through the executor's own
`handle_field_error`, so null propagation, paths and locations are identical. What it saves is
the per-field work whose outcome the schema fixes: looking the field up, building an `Info`
for resolvers that take none, coercing and converting the same arguments for every item of a
list, and a chain of `is_*_type` checks per value. A `Path` is built for composite fields
(their children need it) and for a leaf only when it fails.

The differential test (tests/unit/test_executor_differential.py) holds it to byte-identical
responses against the standard executor; tests/unit/test_executor_versions.py pins the
graphql-core and Strawberry versions whose internals this reaches into.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Awaitable
from types import CoroutineType, GeneratorType
from typing import Any

from graphql import GraphQLError, Undefined
from graphql.execution.executor import Executor, invalid_return_type_error
from graphql.pyutils import Path, is_iterable
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from gateway.compiled.plan import (
    ATTR,
    CALL,
    LEAF,
    LEAF_BOOL,
    LEAF_FLOAT,
    LEAF_INT,
    LEAF_STR,
    LIST,
    OBJECT,
    TYPENAME,
    Compiler,
    Completer,
    FieldPlan,
    ObjectPlan,
    OperationPlan,
    PlanCache,
    Unsupported,
    shareable,
)

_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1

# Types whose values the executor's `is_awaitable` has said are not awaitable, learned as met:
# a value of one of these needs no call to it (most values are dicts, lists, strings and
# Strawberry objects). A type that could be awaitable per instance is never learned.
_SYNC: set[type] = {dict, list, str, int, float, bool, type(None), tuple}


def _learn(value: Any) -> None:
    t = type(value)
    if (
        t is not CoroutineType
        and t is not GeneratorType
        and not hasattr(t, "__await__")
        and not hasattr(t, "__getattr__")
        and len(_SYNC) < 4096
    ):
        _SYNC.add(t)


_complete_leaf_value = Executor.complete_leaf_value

# One plan cache per schema (tests build many schemas; a schema's plans die with it).
_CACHES: weakref.WeakKeyDictionary[Any, PlanCache] = weakref.WeakKeyDictionary()
PLAN_CACHE_SIZE = 512


def plan_cache(schema: Any) -> PlanCache:
    cache = _CACHES.get(schema)
    if cache is None:
        cache = _CACHES[schema] = PlanCache(PLAN_CACHE_SIZE)
    return cache


class CompiledExecutionContext(StrawberryGraphQLCoreExecutionContext):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._dynamic_args: dict[int, dict[str, Any]] = {}
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        self._info_class = strawberry_schema.config.info_class if strawberry_schema else None

    # --- entry --------------------------------------------------------------------------
    def execute_operation(self, serially: bool | None = None) -> Any:
        plan = self._plan() if serially is None else None
        if plan is None:
            return super().execute_operation(serially)
        try:
            result = self._execute_object(plan.root, self.root_value, None)
            if self.is_awaitable(result):
                return self._await_root(result)
            data = result
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.finish(self.build_response(None))
        return self.finish(self.build_response(data))

    async def _await_root(self, result: Awaitable[dict[str, Any]]) -> Any:
        try:
            data = await result
        except GraphQLError as error:
            self.collected_errors.add(error, None)
            return self.build_response(None)
        except Exception:
            await self.cancel_incremental_work()
            self.run_async_work_finished_hook()
            raise
        return self.build_response(data)

    def _plan(self) -> OperationPlan | None:
        if (
            self.abort_signal is not None
            or not self.error_propagation
            or (self.middleware_manager is not None and self.middleware_manager.middlewares)
            or self.hooks is not None
        ):
            return None
        operation = self.operation
        loc = operation.loc
        if loc is None:
            return None
        cache = plan_cache(self.schema)
        body = loc.source.body
        name = operation.name.value if operation.name else None
        var_names = cache.directive_vars(body, name, lambda: _document_of(self, operation))
        if var_names is None:
            return None
        coerced = self.variable_values.coerced
        key = (body, name, tuple(coerced.get(v, Undefined) for v in var_names))
        hit, plan = cache.get(key)
        if hit:
            return plan
        try:
            plan = Compiler(self).operation()
        except (Unsupported, RecursionError, GraphQLError):
            plan = None
        cache.put(key, plan)
        return plan

    def _awaitable(self, value: Any) -> bool:
        if type(value) in _SYNC:
            return False
        if self.is_awaitable(value):
            return True
        _learn(value)
        return False

    # --- objects and fields -------------------------------------------------------------
    def _execute_object(self, plan: ObjectPlan, source: Any, path: Path | None) -> Any:
        """graphql-core's `execute_fields`, over the plan's fields."""
        results: dict[str, Any] = {}
        sync, awaitable = _SYNC, self._awaitable
        awaitable_fields: list[str] = []
        try:
            for fp in plan.fields:
                leaf = fp.inline_leaf
                if leaf >= 0:
                    # A plain attribute with a leaf type: the common case, completed here.
                    try:
                        value = getattr(source, fp.attr)
                    except Exception as raw_error:
                        self._field_error(raw_error, fp, path)
                        results[fp.key] = None
                        continue
                    vt = type(value)
                    if (
                        (leaf == LEAF_STR and vt is str)
                        or (leaf == LEAF_INT and vt is int and _INT_MIN <= value <= _INT_MAX)
                        or (leaf == LEAF_BOOL and vt is bool)
                        or (leaf == LEAF_FLOAT and vt is float and math.isfinite(value))
                    ):
                        results[fp.key] = value
                        continue
                    result = self._finish_read(fp, path, value)
                else:
                    result = self._execute_field(fp, source, path)
                results[fp.key] = result
                if type(result) not in sync and awaitable(result):
                    awaitable_fields.append(fp.key)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[key] for key in awaitable_fields])
            raise
        if not awaitable_fields:
            return results
        return self._gather_fields(results, awaitable_fields)

    async def _gather_fields(self, results: dict[str, Any], keys: list[str]) -> dict[str, Any]:
        if len(keys) == 1:
            key = keys[0]
            results[key] = await results[key]
        else:
            awaited = await gather_with_cancel(*(results[key] for key in keys))
            results.update(zip(keys, awaited, strict=True))
        return results

    def _field_error(self, raw_error: Exception, fp: FieldPlan, parent: Path | None) -> None:
        self.handle_field_error(
            raw_error, fp.return_type, fp.details, Path(parent, fp.key, fp.parent_type.name)
        )

    def _finish_read(self, fp: FieldPlan, parent: Path | None, value: Any) -> Any:
        """The rest of `_execute_field` for an attribute the inline path has already read and
        could not serialize at once (null, another type, or an awaitable)."""
        path = Path(parent, fp.key, fp.parent_type.name)
        try:
            if type(value) not in _SYNC and self._awaitable(value):
                return self._complete_awaitable(fp, path, value)
            return self._complete(fp.completer, fp, path, value)
        except Exception as raw_error:
            self.handle_field_error(raw_error, fp.return_type, fp.details, path)
            return None

    def _execute_field(self, fp: FieldPlan, source: Any, parent: Path | None) -> Any:
        """graphql-core's `execute_field`: resolve, then complete, errors handled per field."""
        path = Path(parent, fp.key, fp.parent_type.name)
        try:
            kind = fp.kind
            if kind == ATTR:
                result = getattr(source, fp.attr)
            elif kind == CALL:
                result = self._call(fp, source, path)
            elif kind == TYPENAME:
                return fp.parent_type.name
            else:
                args = fp.static_args
                if args is None:
                    args = self._dynamic_args.get(id(fp))
                    if args is None:
                        args = Compiler(self).raw_args(fp)
                        if shareable(args):
                            self._dynamic_args[id(fp)] = args
                result = fp.func(source, self._raw_info(fp, path), **args)  # type: ignore[misc]
            if type(result) not in _SYNC and self._awaitable(result):
                return self._complete_awaitable(fp, path, result)
            completed = self._complete(fp.completer, fp, path, result)
            if type(completed) not in _SYNC and self._awaitable(completed):
                return self._await_completed(fp, path, completed)
        except Exception as raw_error:
            self.handle_field_error(raw_error, fp.return_type, fp.details, path)
            return None
        return completed

    async def _await_completed(self, fp: FieldPlan, path: Path, completed: Awaitable) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, fp.return_type, fp.details, path)
            return None

    async def _complete_awaitable(self, fp: FieldPlan, path: Path, result: Awaitable) -> Any:
        try:
            resolved = await result
            completed = self._complete(fp.completer, fp, path, resolved)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, fp.return_type, fp.details, path)
            completed = None
        return completed

    def _call(self, fp: FieldPlan, source: Any, path: Path) -> Any:
        """Call a Strawberry resolver as Strawberry's own wrapper would, minus the work whose
        outcome is fixed: arguments are converted once per request, an `Info` is built only
        for a resolver that takes one."""
        args = fp.static_args
        if args is None:
            args = self._dynamic_args.get(id(fp))
            if args is None:
                try:
                    compiler = Compiler(self)
                    args = compiler.convert_args(fp, compiler.raw_args(fp))
                except Exception as error:
                    if fp.is_async:
                        return _raise_later(error)  # Strawberry converts inside the coroutine
                    raise
                if shareable(args):
                    self._dynamic_args[id(fp)] = args
        kwargs = dict(args) if (fp.parent_param or fp.root_param or fp.info_param) else args
        if fp.parent_param:
            kwargs[fp.parent_param] = source
        if fp.root_param:
            kwargs[fp.root_param] = source
        if fp.info_param:
            kwargs[fp.info_param] = self._info_class(  # type: ignore[misc]
                _raw_info=self._raw_info(fp, path), _field=fp.strawberry_field
            )
        if fp.pass_self:
            return fp.func(source, **kwargs)  # type: ignore[misc]
        return fp.func(**kwargs)  # type: ignore[misc]

    def _raw_info(self, fp: FieldPlan, path: Path) -> Any:
        return self.build_resolve_info(fp.field_def, fp.nodes, fp.parent_type, path)

    # --- completion ---------------------------------------------------------------------
    def _complete(self, c: Completer, fp: FieldPlan, path: Path, result: Any) -> Any:
        """graphql-core's `complete_value`, with the type's branch chosen at compile time."""
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            if c.non_null:
                msg = f"Cannot return null for non-nullable field {fp.parent_type}.{fp.name}."
                raise TypeError(msg)
            return None
        kind = c.kind
        if kind == OBJECT:
            return self._complete_object(c.object_plan, fp, path, result)  # type: ignore[arg-type]
        if kind == LEAF:
            leaf = c.leaf
            vt = type(result)
            if (
                (leaf == LEAF_STR and vt is str)
                or (leaf == LEAF_INT and vt is int and _INT_MIN <= result <= _INT_MAX)
                or (leaf == LEAF_BOOL and vt is bool)
                or (leaf == LEAF_FLOAT and vt is float and math.isfinite(result))
            ):
                return result
            return _complete_leaf_value(c.named, result)
        if kind == LIST:
            return self._complete_list(c, fp, path, result)
        return self._complete_abstract(c, fp, path, result)

    def _complete_object(self, plan: ObjectPlan, fp: FieldPlan, path: Path, result: Any) -> Any:
        is_type_of = plan.is_type_of
        if is_type_of is not None:
            info = self._raw_info(fp, path) if plan.is_type_of_needs_info else None
            ok = is_type_of(result, info)
            if self.is_awaitable(ok):
                return self._complete_object_after(plan, fp, path, result, ok)
            if not ok:
                raise invalid_return_type_error(plan.type, result, fp.details)
        return self._execute_object(plan, result, path)

    async def _complete_object_after(
        self, plan: ObjectPlan, fp: FieldPlan, path: Path, result: Any, ok: Awaitable
    ) -> Any:
        if not await ok:
            raise invalid_return_type_error(plan.type, result, fp.details)
        sub = self._execute_object(plan, result, path)
        if self.is_awaitable(sub):
            return await sub
        return sub  # pragma: no cover

    def _complete_list(self, c: Completer, fp: FieldPlan, path: Path, result: Any) -> Any:
        if self.is_async_iterable(result):
            # Rare (a resolver yielding its items): graphql-core's own path, with a real Info.
            info = self._raw_info(fp, path)
            return self.complete_list_value(c.named, fp.details, info, path, result, None)  # type: ignore[arg-type]
        if not is_iterable(result):
            msg = f"Expected Iterable, but did not find one for field '{fp.parent_type}.{fp.name}'."
            raise GraphQLError(msg)
        inner: Completer = c.inner  # type: ignore[assignment]
        sync, is_awaitable = _SYNC, self._awaitable
        completed_results: list[Any] = []
        append = completed_results.append
        awaitable_indices: list[int] = []
        iterator = iter(result)
        index = 0
        try:
            for item in iterator:
                item_path = Path(path, index, None)
                if type(item) not in sync and is_awaitable(item):
                    append(self._complete_awaitable_item(inner, fp, item_path, item))
                    awaitable_indices.append(index)
                else:
                    try:
                        completed = self._complete(inner, fp, item_path, item)
                        if type(completed) not in sync and is_awaitable(completed):
                            append(self._await_item(inner, fp, item_path, completed))
                            awaitable_indices.append(index)
                        else:
                            append(completed)
                    except Exception as raw_error:
                        self.handle_field_error(raw_error, inner.type, fp.details, item_path)
                        append(None)
                index += 1
        except Exception:
            pending = [completed_results[i] for i in awaitable_indices]
            pending.extend(item for item in iterator if is_awaitable(item))
            if pending:
                self.settle_in_background(pending)
            raise
        if not awaitable_indices:
            return completed_results
        return self._gather_items(completed_results, awaitable_indices)

    async def _gather_items(self, results: list[Any], indices: list[int]) -> list[Any]:
        if len(indices) == 1:
            i = indices[0]
            results[i] = await results[i]
        else:
            awaited = await gather_with_cancel(*(results[i] for i in indices))
            for i, value in zip(indices, awaited, strict=True):
                results[i] = value
        return results

    async def _await_item(self, c: Completer, fp: FieldPlan, path: Path, completed: Any) -> Any:
        try:
            return await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, c.type, fp.details, path)
            return None

    async def _complete_awaitable_item(
        self, c: Completer, fp: FieldPlan, path: Path, item: Awaitable
    ) -> Any:
        try:
            resolved = await item
            completed = self._complete(c, fp, path, resolved)
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, c.type, fp.details, path)
            return None
        return completed

    def _complete_abstract(self, c: Completer, fp: FieldPlan, path: Path, result: Any) -> Any:
        return_type: Any = c.named
        info = self._raw_info(fp, path)
        resolve_type_fn = return_type.resolve_type or self.type_resolver
        runtime_type = resolve_type_fn(result, info, return_type)
        if self.is_awaitable(runtime_type):
            return self._complete_abstract_after(c, fp, path, result, info, runtime_type)
        runtime = self.ensure_valid_runtime_type(
            runtime_type, return_type, fp.details, info, result
        )
        return self._complete_object(self._runtime_plan(c, runtime), fp, path, result)

    async def _complete_abstract_after(
        self, c: Completer, fp: FieldPlan, path: Path, result: Any, info: Any, pending: Awaitable
    ) -> Any:
        runtime = self.ensure_valid_runtime_type(await pending, c.named, fp.details, info, result)
        value = self._complete_object(self._runtime_plan(c, runtime), fp, path, result)
        if self.is_awaitable(value):
            return await value
        return value  # pragma: no cover

    def _runtime_plan(self, c: Completer, runtime: Any) -> ObjectPlan:
        plan = c.runtime_plans.get(runtime.name)
        if plan is None:
            plan = c.runtime_plans[runtime.name] = Compiler(self).object_for(runtime, c.details)  # type: ignore[arg-type]
        return plan


async def _raise_later(error: Exception) -> Any:
    raise error


def _document_of(ex: CompiledExecutionContext, operation: Any) -> Any:
    """The document to scan for directives: the operation and the fragments it may use."""
    from graphql import DocumentNode

    return DocumentNode(definitions=(operation, *ex.fragment_definitions.values()))
