"""Compiling a validated query operation into a plan: what to read, call and complete per field.

graphql-core's executor re-derives, for every field of every object in a response, what the
schema already fixes: which resolver, whether it needs an `Info`, how to coerce its arguments,
how to complete its type. A plan derives it once per operation. Field collection is
graphql-core's own (`collect_fields`, `collect_subfields`), so fragments, merged fields, type
conditions and `@skip`/`@include` come out exactly as the standard executor sees them; the
values of the variables those directives read are part of the plan's cache key.

A plan is shared by every request of the same operation. Nothing request-specific lives in it
except arguments without variables, which are the same for every request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any
from uuid import UUID

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLInputObjectType,
    GraphQLInt,
    GraphQLLeafType,
    GraphQLList,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLString,
    OperationType,
    VariableNode,
    get_named_type,
    is_abstract_type,
    is_leaf_type,
    is_list_type,
    is_non_null_type,
    is_object_type,
)
from graphql.execution.collect_fields import (
    FieldDetailsList,
    collect_fields,
    collect_subfields,
)
from graphql.execution.values import get_argument_values
from graphql.language import Visitor, visit

if TYPE_CHECKING:
    from gateway.compiled.executor import CompiledExecutionContext

# How a field gets its value.
ATTR = 0  # a Strawberry field without resolver: getattr(source, python name)
CALL = 1  # a Strawberry resolver called directly, arguments converted once
WRAPPED = 2  # anything else: the schema's own resolve function with a real Info
TYPENAME = 3  # __typename: the parent type's name

# How a leaf value is serialized when its Python type is the expected one exactly; any other
# value goes through the type's own `coerce_output_value`, as in the standard executor.
LEAF_GENERIC, LEAF_STR, LEAF_INT, LEAF_BOOL, LEAF_FLOAT = range(5)
_INT_MAX = 2**31 - 1

DIRECTIVE_NAMES = frozenset({"skip", "include"})
INCREMENTAL_DIRECTIVES = frozenset({"defer", "stream", "experimental_disableErrorPropagation"})


@dataclass(slots=True, eq=False)
class Completer:
    """How to complete a value of one output type. A non-null wrapper is folded into the kind
    of what it wraps (`non_null`): only a null can fail it, since no completion of a non-null
    value returns null."""

    kind: int
    type: GraphQLOutputType  # the full type, wrappers included (errors are located with it)
    non_null: bool = False
    named: Any = None  # the leaf, object or abstract type itself
    inner: Completer | None = None
    leaf: int = LEAF_GENERIC
    object_plan: ObjectPlan | None = None
    # Abstract types: the object plan per runtime type, compiled when first met.
    runtime_plans: dict[str, ObjectPlan] = field(default_factory=dict)
    details: FieldDetailsList | None = None


LIST, LEAF, OBJECT, ABSTRACT = range(4)


@dataclass(slots=True, eq=False)
class FieldPlan:
    key: str
    name: str
    parent_type: GraphQLObjectType
    field_def: GraphQLField
    details: FieldDetailsList
    nodes: list[FieldNode]
    kind: int
    return_type: GraphQLOutputType
    completer: Completer
    attr: str = ""
    func: Callable[..., Any] | None = None
    strawberry_field: Any = None
    pass_self: bool = False
    parent_param: str | None = None
    root_param: str | None = None
    info_param: str | None = None
    is_async: bool = False
    # Arguments: None when they depend on variables (coerced once per request, on first use).
    static_args: dict[str, Any] | None = None
    # A leaf read straight off its source: the executor's inner loop completes it inline.
    inline_leaf: int = -1
    nullable: bool = True


@dataclass(slots=True, eq=False)
class ObjectPlan:
    type: GraphQLObjectType
    fields: list[FieldPlan]
    # Strawberry's generated is_type_of ignores its `info`; any other is called with a real one.
    is_type_of: Callable[..., Any] | None = None
    is_type_of_needs_info: bool = False


@dataclass(slots=True, eq=False)
class OperationPlan:
    root: ObjectPlan


class Unsupported(Exception):
    """The operation uses something the plan does not express: run the standard executor."""


_IMMUTABLE = (str, int, float, bool, bytes, type(None), Enum, date, time, timedelta, Decimal, UUID)


def shareable(args: dict[str, Any]) -> bool:
    """Whether converted arguments may be handed to more than one resolver call: only when
    no value is mutable (a resolver may change a list or an input object it was given, and the
    standard executor gives every call its own)."""
    return all(_immutable(v) for v in args.values())


def _immutable(value: Any) -> bool:
    if isinstance(value, _IMMUTABLE):
        return True
    if type(value) is tuple or type(value) is frozenset:
        return all(_immutable(v) for v in value)
    return False


def leaf_kind(type_: GraphQLLeafType) -> int:
    if type_ is GraphQLString or type_ is GraphQLID:
        return LEAF_STR
    if type_ is GraphQLInt:
        return LEAF_INT
    if type_ is GraphQLBoolean:
        return LEAF_BOOL
    if type_ is GraphQLFloat:
        return LEAF_FLOAT
    return LEAF_GENERIC


def directive_variables(document: DocumentNode) -> tuple[str, ...]:
    """Names of the variables that `@skip`/`@include` read anywhere in the document: their
    values decide which fields are collected, so they are part of a plan's identity."""
    names: set[str] = set()

    class _Collect(Visitor):
        def enter_directive(self, node: Any, *_: Any) -> None:
            if node.name.value in DIRECTIVE_NAMES:
                for arg in node.arguments or ():
                    if isinstance(arg.value, VariableNode):
                        names.add(arg.value.name.value)

    visit(document, _Collect())
    return tuple(sorted(names))


def uses_unsupported_directives(document: DocumentNode) -> bool:
    found = False

    class _Find(Visitor):
        def enter_directive(self, node: Any, *_: Any) -> None:
            nonlocal found
            if node.name.value in INCREMENTAL_DIRECTIVES:
                found = True

    visit(document, _Find())
    return found


def _has_variables(node: Any) -> bool:
    if isinstance(node, VariableNode):
        return True
    for attr in ("value", "values", "fields"):
        child = getattr(node, attr, None)
        if child is None or isinstance(child, (str, bool, int, float)):
            continue
        if isinstance(child, (list, tuple)):
            if any(_has_variables(c) for c in child):
                return True
        elif _has_variables(child):
            return True
    return False


class Compiler:
    """Builds plans for one request's executor (its schema, fragments and variables)."""

    def __init__(self, ex: CompiledExecutionContext) -> None:
        self.ex = ex
        self.schema = ex.schema
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        self.converter = strawberry_schema.schema_converter if strawberry_schema else None

    def operation(self) -> OperationPlan:
        ex = self.ex
        if ex.operation.operation is not OperationType.QUERY:
            raise Unsupported("only queries are compiled")
        root_type = self.schema.query_type
        if root_type is None:
            raise Unsupported("no query type")
        grouped, _defer, forbidden = collect_fields(
            self.schema,
            ex.fragments,
            ex.variable_values,
            root_type,
            ex.operation,
            ex.hide_suggestions,
        )
        if forbidden:
            raise Unsupported("forbidden directives")
        return OperationPlan(self._object(root_type, grouped))

    def object_for(self, type_: GraphQLObjectType, details: FieldDetailsList) -> ObjectPlan:
        ex = self.ex
        grouped, _defer, _forbidden = collect_subfields(
            self.schema,
            ex.fragments,
            ex.variable_values,
            ex.operation,
            type_,
            details,
            ex.hide_suggestions,
        )
        return self._object(type_, grouped)

    def _object(self, type_: GraphQLObjectType, grouped: dict[str, FieldDetailsList]) -> ObjectPlan:
        fields = []
        for key, details in grouped.items():
            fp = self._field(type_, key, details)
            if fp is not None:
                fields.append(fp)
        is_type_of = type_.is_type_of
        needs_info = bool(is_type_of) and not getattr(is_type_of, "__qualname__", "").endswith(
            "_get_is_type_of.<locals>.is_type_of"
        )
        return ObjectPlan(type_, fields, is_type_of, needs_info)

    def completer(self, type_: GraphQLOutputType, details: FieldDetailsList) -> Completer:
        non_null = is_non_null_type(type_)
        named: Any = type_.of_type if non_null else type_  # type: ignore[union-attr]
        if is_list_type(named):
            assert isinstance(named, GraphQLList)
            inner = self.completer(named.of_type, details)
            return Completer(LIST, type_, non_null, named, inner=inner)
        if is_leaf_type(named):
            return Completer(LEAF, type_, non_null, named, leaf=leaf_kind(named))
        if is_abstract_type(named):
            return Completer(ABSTRACT, type_, non_null, named, details=details)
        if is_object_type(named):
            assert isinstance(named, GraphQLObjectType)
            plan = self.object_for(named, details)
            return Completer(OBJECT, type_, non_null, named, object_plan=plan)
        raise Unsupported(f"output type {type_}")

    def _field(
        self, parent: GraphQLObjectType, key: str, details: FieldDetailsList
    ) -> FieldPlan | None:
        first = details[0]
        if first.fragment_variable_values is not None:
            raise Unsupported("fragment arguments")
        node = first.node
        name = node.name.value
        field_def = self.schema.get_field(parent, name)
        if field_def is None:
            return None  # the standard executor leaves such a field out too
        return_type = field_def.type
        nodes = [d.node for d in details]
        fp = FieldPlan(
            key=key,
            name=name,
            parent_type=parent,
            field_def=field_def,
            details=details,
            nodes=nodes,
            kind=WRAPPED,
            return_type=return_type,
            completer=self.completer(return_type, details),
            nullable=not is_non_null_type(return_type),
        )
        if name == "__typename":
            fp.kind = TYPENAME
            return fp
        static = not any(_has_variables(arg.value) for arg in node.arguments or ())
        sfield = (field_def.extensions or {}).get("strawberry-definition")
        if sfield is not None and self._direct(fp, sfield):
            if fp.kind == CALL and static:
                try:
                    converted = self.convert_args(fp, self.raw_args(fp))
                    fp.static_args = converted if shareable(converted) else None
                except Exception:
                    # The standard executor reports this as a field error on every item.
                    fp.kind = WRAPPED
                    fp.func = field_def.resolve or self.ex.field_resolver
                    fp.static_args = None
        else:
            fp.kind = WRAPPED
            fp.func = field_def.resolve or self.ex.field_resolver
            if static:
                try:
                    raw = self.raw_args(fp)
                    fp.static_args = raw if shareable(raw) else None
                except Exception:
                    fp.static_args = None
        if fp.kind == ATTR and fp.completer.kind == LEAF and fp.completer.leaf != LEAF_GENERIC:
            fp.inline_leaf = fp.completer.leaf
        return fp

    def _direct(self, fp: FieldPlan, sfield: Any) -> bool:
        """Fill `fp` for a direct read or call when Strawberry would do nothing else around
        the resolver (no field extensions, permissions or exception handlers), else False."""
        if self.converter is None or sfield.extensions:
            return False
        handlers = self.converter._get_field_exception_handlers(sfield)
        if handlers:
            return False
        resolve = fp.field_def.resolve
        resolver = sfield.base_resolver
        if resolver is None:
            # Strawberry's basic field: `getattr(source, python_name)` by its default resolver.
            if not getattr(resolve, "_is_default", False) or (
                self.converter.config.default_resolver is not getattr
            ):
                return False
            fp.kind = ATTR
            fp.attr = sfield.python_name
            return True
        if not callable(resolver.wrapped_func):
            return False
        for arg in fp.field_def.args.values():
            if isinstance(get_named_type(arg.type), GraphQLInputObjectType):
                return False  # input objects may build themselves from the Info
        fp.kind = CALL
        fp.func = resolver.wrapped_func
        fp.strawberry_field = sfield
        fp.pass_self = resolver.self_parameter is not None
        fp.parent_param = p.name if (p := resolver.parent_parameter) else None
        fp.root_param = p.name if (p := resolver.root_parameter) else None
        fp.info_param = p.name if (p := resolver.info_parameter) else None
        fp.is_async = bool(sfield.is_async)
        return True

    def raw_args(self, fp: FieldPlan) -> dict[str, Any]:
        first = fp.details[0]
        node = first.node
        if not (fp.field_def.args or node.arguments):
            return {}
        ex = self.ex
        return get_argument_values(
            fp.field_def,
            node,
            ex.variable_values,
            first.fragment_variable_values,
            ex.hide_suggestions,
        )

    def convert_args(self, fp: FieldPlan, raw: dict[str, Any]) -> dict[str, Any]:
        from strawberry.types.arguments import convert_arguments

        converter = self.converter
        assert converter is not None
        return convert_arguments(
            raw,
            fp.strawberry_field.arguments,
            scalar_registry=converter.scalar_registry,
            config=converter.config,
            info=None,
        )


class PlanCache:
    """LRU of compiled plans, like the parser and validation caches: keyed by the document's
    text, the operation name and the values of the variables `@skip`/`@include` read."""

    def __init__(self, maxsize: int = 512) -> None:
        self.maxsize = maxsize
        self._directive_vars: OrderedDict[tuple[str, str | None], tuple[str, ...] | None] = (
            OrderedDict()
        )
        self._plans: OrderedDict[tuple, OperationPlan | None] = OrderedDict()

    def directive_vars(
        self, body: str, name: str | None, document: Callable[[], DocumentNode]
    ) -> tuple[str, ...] | None:
        """None when the document cannot be compiled at all."""
        key = (body, name)
        try:
            found = self._directive_vars[key]
            self._directive_vars.move_to_end(key)
            return found
        except KeyError:
            pass
        doc = document()
        found = None if uses_unsupported_directives(doc) else directive_variables(doc)
        self._put(self._directive_vars, key, found)
        return found

    def get(self, key: tuple) -> tuple[bool, OperationPlan | None]:
        try:
            plan = self._plans[key]
        except KeyError:
            return False, None
        self._plans.move_to_end(key)
        return True, plan

    def put(self, key: tuple, plan: OperationPlan | None) -> None:
        self._put(self._plans, key, plan)

    def _put(self, store: OrderedDict, key: Any, value: Any) -> None:
        store[key] = value
        store.move_to_end(key)
        while len(store) > self.maxsize:
            store.popitem(last=False)

    def clear(self) -> None:
        self._plans.clear()
        self._directive_vars.clear()


__all__ = [
    "ABSTRACT",
    "ATTR",
    "CALL",
    "LEAF",
    "LIST",
    "OBJECT",
    "TYPENAME",
    "WRAPPED",
    "Compiler",
    "Completer",
    "FieldPlan",
    "ObjectPlan",
    "OperationPlan",
    "PlanCache",
    "Unsupported",
    "shareable",
]
