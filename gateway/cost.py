"""The static cost of a GraphQL operation, computed from the document before execution.

GitHub's node-limit rule is the model: a connection field may return `first` nodes for each
item of the list around it, so nested connections multiply. The cost is

    1 + sum over every connection field of (its `first` x the `first` of each enclosing connection)

`followers(first: 50) { nodes { followers(first: 50) { nodes { id } } } }` costs
1 + 50 + 50*50 = 2551. A connection without `first` counts as `default_first` (the page size the
resolver would use). Other fields cost nothing: the depth, alias and token limits bound them.
A connection is any object type with `edges` and `pageInfo` fields (schema/connection.py).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
)
from graphql.language import DocumentNode


def is_connection(type_: Any) -> bool:
    named = get_named_type(type_)
    return isinstance(named, GraphQLObjectType) and {"edges", "pageInfo"} <= named.fields.keys()


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    ops = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name:
        return next((o for o in ops if o.name and o.name.value == name), None)
    return ops[0] if len(ops) == 1 else None


def query_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    operation_name: str | None,
    variables: dict[str, Any] | None,
    default_first: int,
) -> int:
    """Cost of the operation `operation_name` of a validated `document`."""
    op = _operation(document, operation_name)
    if op is None:
        return 1
    root = schema.get_root_type(op.operation)
    if root is None:
        return 1
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    var_defaults = {
        v.variable.name.value: v.default_value.value
        for v in op.variable_definitions or ()
        if isinstance(v.default_value, IntValueNode)
    }
    values = {**var_defaults, **(variables or {})}

    def first_of(field: FieldNode) -> int:
        for arg in field.arguments or ():
            if arg.name.value != "first":
                continue
            node = arg.value
            if isinstance(node, IntValueNode):
                return max(0, int(node.value))
            if isinstance(node, VariableNode):
                value = values.get(node.name.value)
                if isinstance(value, int) and not isinstance(value, bool):
                    return max(0, value)
                if isinstance(value, str) and value.isdigit():
                    return int(value)
        return default_first

    def walk(
        selection_set: SelectionSetNode | None,
        parent: Any,
        multiplier: int,
        seen_fragments: frozenset[str],
    ) -> int:
        if selection_set is None:
            return 0
        total = 0
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                fields = (
                    parent.fields
                    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
                    else {}
                )
                definition = fields.get(sel.name.value)
                if definition is None:  # __typename, or a field of a union member
                    continue
                child_multiplier = multiplier
                if is_connection(definition.type):
                    child_multiplier = multiplier * first_of(sel)
                    total += child_multiplier
                total += walk(
                    sel.selection_set,
                    get_named_type(definition.type),
                    child_multiplier,
                    seen_fragments,
                )
            elif isinstance(sel, InlineFragmentNode):
                target = (
                    schema.get_type(sel.type_condition.name.value) if sel.type_condition else parent
                )
                total += walk(sel.selection_set, target, multiplier, seen_fragments)
            elif isinstance(sel, FragmentSpreadNode):
                name = sel.name.value
                fragment = fragments.get(name)
                if fragment is None or name in seen_fragments:
                    continue
                target = schema.get_type(fragment.type_condition.name.value)
                total += walk(fragment.selection_set, target, multiplier, seen_fragments | {name})
        return total

    return 1 + walk(op.selection_set, root, 1, frozenset())
