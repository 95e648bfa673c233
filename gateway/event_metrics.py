"""Hands the gateway's metrics to the lower layers: counts user actions from domain events,
document-cache look-ups from datastore/doc_cache.py, dataloader batches through the context.

The entry points call `install_metrics` once per process (app.py's `create_app`, cli.py's
worker); nothing below the gateway imports this module. Events are emitted in the process that
performed the action (post.ready usually in the worker), and counters from the worker reach
/metrics when API and worker share PROMETHEUS_MULTIPROC_DIR.
"""

from __future__ import annotations

from typing import Any

from core.events import Handler, on
from core.observers import Observers
from datastore.doc_cache import LOOKUP_OBSERVERS
from gateway.metrics import count_action, observe_batch, observe_doc_cache

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
_installed = False


def _counter(action: str) -> Handler:
    async def handle(deps: Any, **payload: Any) -> None:
        count_action(action)

    handle.__name__ = f"count_{action}"
    return handle


def install_metrics() -> None:
    """Register the action counters and the document-cache observer (once per process: a test
    process builds many apps, and a second registration would count everything twice)."""
    global _installed
    if _installed:
        return
    for event, action in _ACTIONS.items():
        on(event)(_counter(action))
    LOOKUP_OBSERVERS.append(observe_doc_cache)
    _installed = True


def metrics_observers() -> Observers:
    """What a request's context reports to (resolvers/context.py)."""
    return Observers(batch=observe_batch)
