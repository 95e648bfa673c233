"""Lets resolvers add to the response's `extensions` (e.g. `extensions.feed.degraded` when the
feed was served from the database): whatever they put in `info.context.extensions`.

Also reports the reads Redis could not serve and MongoDB did (`datastore/outages.py`), as
`extensions.degraded = {"source": "mongodb", "reason": ..., "reads": [...]}`, so a client
knows counts and lists may lag while the cache is down."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from strawberry.extensions import SchemaExtension

from datastore.outages import collect_degraded


class ContextExtensions(SchemaExtension):
    _degraded: set[str] | None = None

    def on_operation(self) -> Iterator[None]:
        with collect_degraded() as reads:
            self._degraded = reads
            yield

    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        results = dict(getattr(context, "extensions", None) or {})
        if self._degraded:
            results["degraded"] = {
                "source": "mongodb",
                "reason": "cache unavailable",
                "reads": sorted(self._degraded),
            }
        return results
