"""Validation results cached by query text.

Strawberry's ValidationCache keys its LRU on the parsed document, and graphql-core 3.3's AST
nodes hash by content: every lookup walks the whole document tree (about a fifth of a cached
feed request's execution time). The text the document was parsed from is an equal key that
hashes in one step; a document without text (none reaches us that way) is validated as usual.

Also the GraphQL spec's GetOperation rule, which Strawberry skips (it runs the first operation):
a document with several operations needs an `operationName`. The count is cached with the
errors, so the check costs a comparison.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from graphql import GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

OPERATION_NAME_REQUIRED = "Must provide operation name if query contains multiple operations."
_CACHES: weakref.WeakKeyDictionary[Any, OrderedDict] = weakref.WeakKeyDictionary()


class TextValidationCache(SchemaExtension):
    def __init__(self, maxsize: int = 512) -> None:
        super().__init__()
        self.maxsize = maxsize

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        schema = ec.schema._schema
        document = ec.graphql_document
        loc = getattr(document, "loc", None)
        if loc is None:
            ec.pre_execution_errors = validate_document(schema, document, ec.validation_rules)
            yield
            return
        cache = _CACHES.get(schema)
        if cache is None:
            cache = _CACHES[schema] = OrderedDict()
        key = (loc.source.body, ec.validation_rules)
        cached = cache.get(key)
        if cached is None:
            errors = validate_document(schema, document, ec.validation_rules)
            operations = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            cache[key] = (errors, operations)
            if len(cache) > self.maxsize:
                cache.popitem(last=False)
        else:
            errors, operations = cached
            cache.move_to_end(key)
        if operations > 1 and not errors and ec._provided_operation_name is None:
            errors = [GraphQLError(OPERATION_NAME_REQUIRED)]
        ec.pre_execution_errors = errors
        yield
