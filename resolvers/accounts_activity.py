"""A schema extension that records the viewer's activity (Redis; the worker copies it to
`users.last_active_at`)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from core.errors import AppError
from services.touch_activity import touch_activity

log = logging.getLogger(__name__)


class TouchViewerActivity(SchemaExtension):
    """After each authenticated operation, record activity: at most one Redis round trip per
    user and process per `activity_touch_seconds`, none when the operation already recorded it
    (a feed page), never a MongoDB write (see services/touch_activity.py)."""

    async def on_execute(self) -> AsyncIterator[None]:
        yield
        ctx = self.execution_context.context
        try:
            viewer = getattr(ctx, "viewer_id", None)
        except AppError:  # a bad token already produced its error for the operation
            return
        if viewer is None:
            return
        try:
            await touch_activity(ctx.stores, viewer)
        except Exception as exc:  # activity is best effort; never fail the request for it
            log.warning("could not record activity of %s: %s", viewer, exc)
