"""Structural query limits, checked while parsing and validating (before any resolver runs):
maximum tokens (graphql-core's parser option, via Strawberry's MaxTokensLimiter), maximum depth
and maximum aliases (Strawberry's QueryDepthLimiter and MaxAliasesLimiter rules), and
introspection off when `settings.introspection` is false.

Refusals carry code QUERY_TOO_COMPLEX with `limit` (depth | aliases | tokens) and `maximum`.

The validation rule classes are built once per schema: Strawberry's limiter extensions create a
new rule class per instance, which would make every request miss the validation cache (keyed by
the rule classes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import AddValidationRules, MaxTokensLimiter, SchemaExtension
from strawberry.extensions.max_aliases import create_validator as alias_validator
from strawberry.extensions.query_depth_limiter import create_validator as depth_validator

from core.settings import Settings

_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("depth", re.compile(r"exceeds maximum operation depth of (\d+)")),
    ("aliases", re.compile(r"(\d+) aliases found\. Allowed: (\d+)")),
    ("tokens", re.compile(r"Document contains more than (\d+) tokens")),
    # graphql-core's parser stops at a fixed nesting of selection sets, before our depth rule.
    ("depth", re.compile(r"Document is nested too deeply()")),
]


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    rules: list[Any] = [
        depth_validator(settings.max_query_depth, should_ignore=None),
        alias_validator(settings.max_query_aliases),
    ]
    if not settings.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    max_tokens = settings.max_query_tokens
    return [
        lambda: AddValidationRules(list(rules)),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
    ]


def limit_error_extensions(message: str) -> dict[str, Any] | None:
    """Extensions for an error raised by one of the limits above, else None."""
    for kind, pattern in _PATTERNS:
        found = pattern.search(message)
        if found:
            ext: dict[str, Any] = {"code": "QUERY_TOO_COMPLEX", "limit": kind}
            if kind == "aliases":
                ext["aliases"] = int(found.group(1))
                ext["maximum"] = int(found.group(2))
            elif found.group(1):
                ext["maximum"] = int(found.group(1))
            return ext
    return None
