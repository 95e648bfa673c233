"""Validation results cached by query text.

Strawberry's ValidationCache keys its LRU on the parsed document, and graphql-core 3.3's AST
nodes hash by content: every lookup walks the whole document tree (about a fifth of a cached
feed request's execution time). The text the document was parsed from is an equal key that
hashes in one step; a document without text (none reaches us that way) is validated as usual.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.schema.schema import validate_document

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
        errors = cache.get(key)
        if errors is None:
            errors = validate_document(schema, document, ec.validation_rules)
            cache[key] = errors
            if len(cache) > self.maxsize:
                cache.popitem(last=False)
        else:
            cache.move_to_end(key)
        ec.pre_execution_errors = errors
        yield
