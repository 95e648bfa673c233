"""Hypothesis strategies that generate GraphQL query operations from a graphql-core schema.

`operations(schema, config)` walks a `GraphQLSchema` and draws an `Operation` (query text and
variable values) that selects fields with arguments (literals, variables, defaults left out,
explicit nulls, input objects, lists and single values coerced to lists), aliases (the same
field under two aliases with different arguments, and the same field repeated so its
sub-selections merge), named fragments (defined and spread, sometimes spread twice) and inline
fragments (with and without a type condition, on interfaces, unions and concrete types),
`@skip`/`@include` with literals and variables, and `__typename`.

Generation is valid by construction nearly always: response keys are tracked per merged
selection scope, so two fields answering under one key are merged only when they are the same
field with the same arguments and return type (else one gets a fresh alias), and merged fields
share one scope for their sub-selections. With `validate=True` (the default) each operation is
also run through graphql-core's `validate` and rejected with `assume` when invalid.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
    is_composite_type,
    is_leaf_type,
    parse,
    validate,
)
from graphql.language.print_string import print_string
from hypothesis import assume, event
from hypothesis import strategies as st

__all__ = ["GenConfig", "Operation", "operations", "print_literal"]

Draw = Callable[[st.SearchStrategy[Any]], Any]
Composite = GraphQLObjectType | GraphQLInterfaceType | GraphQLUnionType

# Aliases come from a small pool, so the same key is often reused: either the fields merge
# (same field, same arguments) or the generator has to pick a fresh alias.
ALIASES = ("a", "b", "c", "first", "node", "x")


@dataclass(frozen=True)
class Operation:
    query: str
    variables: dict[str, Any]
    operation_name: str | None = None

    def __str__(self) -> str:
        return f"{self.query}\nvariables: {self.variables!r}"


@dataclass
class GenConfig:
    """What to generate. Type and field names are schema names (camelCase)."""

    max_depth: int = 4
    max_selections: int = 4
    max_list: int = 3
    # Selections in the whole operation (fragments included) before the rest are cut short.
    max_total: int = 40
    # Fragments (inline or named) nested directly in one another, at one field level.
    max_fragment_nesting: int = 2
    # Root fields to start from (default: every field of the query type).
    root_fields: Collection[str] | None = None
    # (type name, field name) pairs never selected; "*" as the type name matches any type.
    exclude: Collection[tuple[str, str]] = ()
    # Values for named input types (scalars, enums, input objects), as JSON values (enum names
    # for enums). Overrides the built-in defaults.
    values: Mapping[str, st.SearchStrategy[Any]] = field(default_factory=dict)
    # Values for one argument: (type name, field name, argument name) -> JSON values.
    arguments: Mapping[tuple[str, str, str], st.SearchStrategy[Any]] = field(default_factory=dict)
    # Arguments always given (with a nullable/defaulted argument otherwise sometimes left out).
    required_arguments: Collection[tuple[str, str, str]] = ()
    # Probabilities are expressed as weights of sampled choices; these knobs turn features off.
    fragments: bool = True
    directives: bool = True
    variables: bool = True
    validate: bool = True


_DEFAULT_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "Int": st.integers(-2, 5),
    "Float": st.sampled_from([0.0, 1.5, -2.25, 3.0, 1e-3]),
    "String": st.sampled_from(["", "a", "ab", "Zoë", "x y", '"q"\\']),
    "Boolean": st.booleans(),
    "ID": st.sampled_from(["1", "2", "x"]),
}


def print_literal(type_: GraphQLInputType, value: Any) -> str:
    """A GraphQL literal for `value` (a JSON value; enum values by name) at `type_`."""
    if isinstance(type_, GraphQLNonNull):
        return print_literal(type_.of_type, value)
    if value is None:
        return "null"
    if isinstance(type_, GraphQLList):
        if isinstance(value, list):
            return "[" + ", ".join(print_literal(type_.of_type, v) for v in value) + "]"
        return print_literal(type_.of_type, value)  # a single value, coerced to a list
    if isinstance(type_, GraphQLEnumType):
        return str(value)
    if isinstance(type_, GraphQLInputObjectType):
        inner = ", ".join(
            f"{name}: {print_literal(type_.fields[name].type, v)}" for name, v in value.items()
        )
        return "{" + inner + "}"
    return _print_json_literal(value)


def _print_json_literal(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        assert math.isfinite(value)
        return repr(value)
    if isinstance(value, str):
        return print_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(_print_json_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_print_json_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"no GraphQL literal for {value!r}")


@dataclass
class _Entry:
    """One response key of a merged selection scope."""

    field_name: str
    args: str
    type_str: str
    parent: str
    child: _Scope | None


@dataclass
class _Scope:
    keys: dict[str, _Entry] = field(default_factory=dict)
    # Named fragments generated for this scope (so they may be spread again in it).
    fragments: list[tuple[str, str]] = field(default_factory=list)  # (name, type condition)


class _Builder:
    def __init__(self, draw: Draw, schema: GraphQLSchema, config: GenConfig) -> None:
        self.draw = draw
        self.schema = schema
        self.config = config
        self.var_defs: list[str] = []
        self.var_values: dict[str, Any] = {}
        self.fragment_defs: list[str] = []
        self.counter = 0
        self.budget = config.max_total

    def fresh(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}{self.counter}"

    def chance(self, p: float) -> bool:
        return self.draw(st.integers(0, 99)) < int(p * 100)

    # --- values ----------------------------------------------------------------------------

    def value(self, type_: GraphQLInputType, depth: int = 0) -> Any:
        """A JSON value (variables form) valid for `type_`."""
        if isinstance(type_, GraphQLNonNull):
            return self._non_null_value(type_.of_type, depth)
        if self.chance(0.1):
            return None
        return self._non_null_value(type_, depth)

    def _non_null_value(self, type_: GraphQLInputType, depth: int) -> Any:
        if isinstance(type_, GraphQLNonNull):
            return self._non_null_value(type_.of_type, depth)
        if isinstance(type_, GraphQLList):
            if self.chance(0.15):
                return self.value(type_.of_type, depth + 1)  # coerced to a one-item list
            n = self.draw(st.integers(0, self.config.max_list))
            return [self.value(type_.of_type, depth + 1) for _ in range(n)]
        named: GraphQLNamedType = type_  # type: ignore[assignment]
        if named.name in self.config.values:
            return self.draw(self.config.values[named.name])
        if isinstance(named, GraphQLEnumType):
            return self.draw(st.sampled_from(sorted(named.values)))
        if isinstance(named, GraphQLInputObjectType):
            out: dict[str, Any] = {}
            for name, f in named.fields.items():
                required = isinstance(f.type, GraphQLNonNull) and f.default_value is _undefined()
                if required or (depth < 2 and self.chance(0.5)):
                    out[name] = self.value(f.type, depth + 1)
            return out
        if isinstance(named, GraphQLScalarType):
            return self.draw(_DEFAULT_VALUES.get(named.name, _DEFAULT_VALUES["String"]))
        raise TypeError(f"no values for {named}")

    def argument_value(
        self, type_: GraphQLInputType, strategy: st.SearchStrategy[Any] | None
    ) -> str:
        """Text of an argument value: a literal, a variable, or (inside an input object) a
        literal object with a variable in it."""
        value = self.draw(strategy) if strategy is not None else self.value(type_)
        if self.config.variables and self.chance(0.35):
            return self.variable(type_, value)
        named = get_named_type(type_)
        if (
            self.config.variables
            and isinstance(named, GraphQLInputObjectType)
            and isinstance(value, dict)
            and value
            and self.chance(0.3)
        ):
            base = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
            if isinstance(base, GraphQLInputObjectType):
                parts = []
                for name, v in value.items():
                    ftype = base.fields[name].type
                    text = self.variable(ftype, v) if self.chance(0.5) else print_literal(ftype, v)
                    parts.append(f"{name}: {text}")
                return "{" + ", ".join(parts) + "}"
        return print_literal(type_, value)

    def variable(self, type_: GraphQLInputType, value: Any) -> str:
        name = self.fresh("v")
        definition = f"${name}: {type_}"
        nullable = not isinstance(type_, GraphQLNonNull)
        mode = self.draw(
            st.sampled_from(["given", "given", "given", "default", "omitted", "null"])
            if nullable
            else st.just("given")
        )
        if mode == "default":
            default = self.value(type_)
            definition += f" = {print_literal(type_, default)}"
            if self.chance(0.5):
                self.var_values[name] = value
        elif mode == "omitted":
            pass
        elif mode == "null":
            self.var_values[name] = None
        else:
            self.var_values[name] = value
        self.var_defs.append(definition)
        return f"${name}"

    def directives(self) -> str:
        if not self.config.directives or not self.chance(0.2):
            return ""
        name = self.draw(st.sampled_from(["skip", "include"]))
        flag = self.draw(st.booleans())
        if self.config.variables and self.chance(0.5):
            var = self.fresh("b")
            self.var_defs.append(f"${var}: Boolean!")
            self.var_values[var] = flag
            return f" @{name}(if: ${var})"
        return f" @{name}(if: {'true' if flag else 'false'})"

    # --- selections ------------------------------------------------------------------------

    def fields_of(self, type_: Composite, depth: int) -> list[tuple[str, GraphQLField]]:
        if isinstance(type_, GraphQLUnionType):
            return []
        out = []
        roots = self.config.root_fields
        is_root = type_ is self.schema.query_type
        for name, f in type_.fields.items():
            if (type_.name, name) in self.config.exclude or ("*", name) in self.config.exclude:
                continue
            if is_root and roots is not None and name not in roots:
                continue
            if depth >= self.config.max_depth and is_composite_type(get_named_type(f.type)):
                continue
            out.append((name, f))
        return out

    def fragment_targets(self, type_: Composite) -> list[Composite]:
        """Type conditions a fragment may have within a selection on `type_`: types whose
        possible types overlap `type_`'s."""
        possible = set(self._possible(type_))
        out: list[Composite] = []
        for t in self.schema.type_map.values():
            if t.name.startswith("__") or not is_composite_type(t):
                continue
            if possible & set(self._possible(t)):  # type: ignore[arg-type]
                out.append(t)  # type: ignore[arg-type]
        return sorted(out, key=lambda t: (t is not type_, t.name))

    def _possible(self, type_: Composite) -> list[str]:
        if isinstance(type_, GraphQLObjectType):
            return [type_.name]
        return [t.name for t in self.schema.get_possible_types(type_)]

    def selection_set(self, type_: Composite, scope: _Scope, depth: int, nesting: int = 0) -> str:
        n = self.draw(st.integers(1, self.config.max_selections)) if self.budget > 0 else 1
        items = [self.selection(type_, scope, depth, nesting) for _ in range(n)]
        return "{ " + " ".join(items) + " }"

    def selection(self, type_: Composite, scope: _Scope, depth: int, nesting: int = 0) -> str:
        self.budget -= 1
        if self.budget < 0:  # out of budget: no more levels
            depth = self.config.max_depth
        fields = self.fields_of(type_, depth)
        kinds = ["typename"]
        if fields:
            kinds += ["field"] * 6
            if any(e.parent == type_.name for e in scope.keys.values()):
                kinds += ["repeat"]
        fragments = (
            self.config.fragments
            and nesting < self.config.max_fragment_nesting
            and self.budget >= 0
        )
        if fragments:
            kinds += ["inline", "spread"]
            if any(self._spreadable(type_, cond) for _, cond in scope.fragments):
                kinds += ["respread"]
            if isinstance(type_, GraphQLUnionType):
                kinds += ["inline", "inline"]
        elif scope.fragments and any(self._spreadable(type_, c) for _, c in scope.fragments):
            kinds += ["respread"]
        kind = self.draw(st.sampled_from(kinds))
        if kind == "typename":
            return self.typename(type_, scope)
        if kind == "field":
            name, f = self.draw(st.sampled_from(fields))
            return self.field(type_, name, f, scope, depth)
        if kind == "repeat":
            entries = [e for e in scope.keys.values() if e.parent == type_.name]
            key = self.draw(
                st.sampled_from(sorted({k for k, e in scope.keys.items() if e in entries}))
            )
            return self.repeat(type_, key, scope.keys[key], depth)
        if kind == "inline":
            target = self.draw(st.sampled_from([None, *self.fragment_targets(type_)]))
            cond = "" if target is None else f" on {target.name}"
            body = self.selection_set(target or type_, scope, depth, nesting + 1)
            event("inline fragment" if target is None else f"inline on {_kind(target)}")
            return f"...{cond}{self.directives()} {body}"
        if kind == "respread":
            names = [(n, c) for n, c in scope.fragments if self._spreadable(type_, c)]
            name, _ = self.draw(st.sampled_from(names))
            event("fragment spread twice")
            return f"...{name}{self.directives()}"
        target = self.draw(st.sampled_from(self.fragment_targets(type_)))
        name = self.fresh("F")
        body = self.selection_set(target, scope, depth, nesting + 1)
        self.fragment_defs.append(f"fragment {name} on {target.name} {body}")
        scope.fragments.append((name, target.name))
        event(f"named fragment on {_kind(target)}")
        return f"...{name}{self.directives()}"

    def _spreadable(self, type_: Composite, cond: str) -> bool:
        target = self.schema.get_type(cond)
        return bool(set(self._possible(type_)) & set(self._possible(target)))  # type: ignore

    def typename(self, type_: Composite, scope: _Scope) -> str:
        alias = self.draw(st.sampled_from([None, None, *ALIASES]))
        key = alias or "__typename"
        entry = scope.keys.get(key)
        if entry is not None and entry.field_name != "__typename":
            alias = key = self.fresh("t")
        scope.keys.setdefault(key, _Entry("__typename", "", "String!", type_.name, None))
        text = f"{alias}: __typename" if alias else "__typename"
        return text + self.directives()

    def field(
        self, parent: Composite, name: str, f: GraphQLField, scope: _Scope, depth: int
    ) -> str:
        args = self.arguments(parent, name, f)
        alias = self.draw(st.sampled_from([None, None, None, *ALIASES]))
        key = alias or name
        entry = scope.keys.get(key)
        type_str = str(f.type)
        if entry is not None and (entry.field_name, entry.args, entry.type_str) != (
            name,
            args,
            type_str,
        ):
            alias = key = self.fresh(name + "_")
            entry = None
        if entry is None:
            named = get_named_type(f.type)
            child = _Scope() if is_composite_type(named) else None
            entry = _Entry(name, args, type_str, parent.name, child)
            scope.keys[key] = entry
        else:
            event("merged duplicate field")
        if alias and any(
            e.field_name == name and e.args != args for k, e in scope.keys.items() if k != key
        ):
            event("same field under two aliases with different arguments")
        return self._emit(alias, name, args, f, entry, depth)

    def repeat(self, parent: Composite, key: str, entry: _Entry, depth: int) -> str:
        """The field answering under `key` again (same arguments): its selections merge."""
        if entry.field_name == "__typename":
            return f"{key}: __typename" if key != "__typename" else "__typename"
        f = parent.fields[entry.field_name]  # type: ignore[union-attr]
        alias = key if key != entry.field_name else None
        event("merged duplicate field")
        return self._emit(alias, entry.field_name, entry.args, f, entry, depth)

    def _emit(
        self,
        alias: str | None,
        name: str,
        args: str,
        f: GraphQLField,
        entry: _Entry,
        depth: int,
    ) -> str:
        text = f"{alias}: {name}" if alias else name
        text += args + self.directives()
        named = get_named_type(f.type)
        if is_leaf_type(named):
            return text
        assert entry.child is not None
        return text + " " + self.selection_set(named, entry.child, depth + 1)  # type: ignore

    def arguments(self, parent: Composite, name: str, f: GraphQLField) -> str:
        parts = []
        for arg_name, arg in f.args.items():
            coord = (parent.name, name, arg_name)
            required = isinstance(arg.type, GraphQLNonNull) and arg.default_value is _undefined()
            given = required or coord in self.config.required_arguments or self.draw(st.booleans())
            if not given:
                continue
            strategy = self.config.arguments.get(coord)
            parts.append(f"{arg_name}: {self.argument_value(arg.type, strategy)}")
        return f"({', '.join(parts)})" if parts else ""

    def operation(self) -> Operation:
        query_type = self.schema.query_type
        assert query_type is not None
        roots = self.fields_of(query_type, 0)
        scope = _Scope()
        count = self.draw(st.integers(1, self.config.max_selections))
        items = []
        for _ in range(count):
            if roots and not self.chance(0.1):
                name, f = self.draw(st.sampled_from(roots))
                items.append(self.field(query_type, name, f, scope, 0))
            else:
                items.append(self.selection(query_type, scope, 0))
        body = "{ " + " ".join(items) + " }"
        name = self.draw(st.sampled_from([None, "Q"])) if not self.var_defs else "Q"
        header = "query"
        if name:
            header += f" {name}"
        if self.var_defs:
            header += "(" + ", ".join(self.var_defs) + ")"
        parts = [f"{header} {body}" if (name or self.var_defs) else body, *self.fragment_defs]
        return Operation("\n".join(parts), dict(self.var_values), name)


def _kind(t: GraphQLNamedType) -> str:
    if isinstance(t, GraphQLInterfaceType):
        return "interface"
    if isinstance(t, GraphQLUnionType):
        return "union"
    return "object"


def _undefined() -> Any:
    from graphql.pyutils import Undefined

    return Undefined


def operations(
    schema: GraphQLSchema, config: GenConfig | None = None
) -> st.SearchStrategy[Operation]:
    """Valid query operations over `schema` (a graphql-core schema, e.g. `strawberry_schema
    ._schema`), with their variable values."""
    cfg = config or GenConfig()

    @st.composite
    def build(draw: Draw) -> Operation:
        op = _Builder(draw, schema, cfg).operation()
        if cfg.validate:
            errors = validate(schema, parse(op.query))
            if errors:
                event(f"invalid: {errors[0].message[:60]}")
            assume(not errors)
        return op

    return build()
