"""Counts user actions from domain events (listed in core.events.HANDLER_MODULES).

Events are emitted in the process that performed the action: post.ready usually in the worker.
Counters from the worker reach /metrics when API and worker share PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

from typing import Any

from core.events import on
from gateway.metrics import count_action

_ACTIONS = {
    "post.ready": "post",
    "post.deleted": "post_deleted",
    "post.liked": "like",
    "post.unliked": "unlike",
    "comment.added": "comment",
    "comment.deleted": "comment_deleted",
    "user.followed": "follow",
    "user.unfollowed": "unfollow",
}


def _counter(action: str) -> Any:
    async def handle(deps: Any, **payload: Any) -> None:
        count_action(action)

    handle.__name__ = f"count_{action}"
    return handle


for _event, _action in _ACTIONS.items():
    on(_event)(_counter(_action))
