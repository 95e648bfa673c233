"""Lets resolvers add to the response's `extensions` (e.g. `extensions.feed.degraded` when the
feed was served from the database): whatever they put in `info.context.extensions`."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension


class ContextExtensions(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        return dict(getattr(context, "extensions", None) or {})
