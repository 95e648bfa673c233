"""Domain events: how one domain reacts to another without importing it.

A service that changes state emits an event (`await emit("post.ready", deps, post_id=...)`);
modules that care register handlers with `@on("post.ready")`. Handlers run in the emitting
process, awaited in order, and should be quick (typically they enqueue a worker job). Each
domain's handlers live in one module, listed in HANDLER_MODULES, so API and worker processes load
the same set. An event name not in EVENTS is refused by `on` and `emit`, so a typo fails loudly
instead of reaching no handler.

Events (payload keyword arguments):
  user.followed        follower_id, followee_id
  user.unfollowed      follower_id, followee_id
  user.follow_requested requester_id, target_id (notifications may listen: FOLLOW_REQUEST)
  user.blocked         blocker_id, blocked_id
  user.privacy_changed user_id, is_private
  user.registered      user_id                  (search indexes the new account)
  user.profile_changed user_id                  (username/full name changed: search re-indexes)
  post.ready           post_id, author_id, post (optional: the READY document as written; with
                       it the handlers read nothing back from MongoDB)
  post.edited          post_id, author_id
  post.deleted         post_id, author_id
  post.liked           post_id, user_id, author_id
  post.unliked         post_id, user_id, author_id
  post.shared          post_id, sender_id, author_id   (search: TOP order counts shares)
  comment.added        comment_id, post_id, author_id
  comment.deleted      comment_id, post_id
  feed.delivered       author_id, post_ids, user_ids   (fan-out reached these timelines)
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from saq import Queue

    from datastore.stores import Stores


@dataclass(frozen=True, slots=True)
class Deps:
    """What a domain operation needs from the process: the stores and the job queue."""

    stores: Stores
    queue: Queue


EVENTS = frozenset(
    {
        "user.followed",
        "user.unfollowed",
        "user.follow_requested",
        "user.blocked",
        "user.privacy_changed",
        "user.registered",
        "user.profile_changed",
        "post.ready",
        "post.edited",
        "post.deleted",
        "post.liked",
        "post.unliked",
        "post.shared",
        "comment.added",
        "comment.deleted",
        "feed.delivered",
    }
)

Handler = Callable[..., Awaitable[None]]
_HANDLERS: dict[str, list[Handler]] = {}

# Each domain's handler module (feed engine, notifications, search indexes). The gateway's
# metrics counters are not listed: the entry points install them (gateway/event_metrics.py).
# One module per domain that listens: imported on first emit, by API and worker alike.
HANDLER_MODULES: tuple[str, ...] = (
    "feed.handlers",  # fan-out, timeline clean-up
    "services.interaction_events",  # notifications, mentions, clean-up after deletes/blocks
    "search.handlers",  # search indexes
)
_loaded = False


def _known(event: str) -> str:
    if event not in EVENTS:
        raise ValueError(f"unknown event {event!r} (core/events.py lists them)")
    return event


def on(event: str) -> Callable[[Handler], Handler]:
    _known(event)

    def register(fn: Handler) -> Handler:
        _HANDLERS.setdefault(event, []).append(fn)
        return fn

    return register


def load_handlers() -> None:
    global _loaded
    if not _loaded:
        for name in HANDLER_MODULES:
            importlib.import_module(name)
        _loaded = True


async def emit(event: str, deps: Deps, **payload: Any) -> None:
    load_handlers()
    handlers = _HANDLERS.get(event)
    if handlers is None:
        handlers = _HANDLERS.setdefault(_known(event), [])
    for handler in handlers:
        await handler(deps, **payload)


async def emit_tolerating(
    event: str,
    deps: Deps,
    tolerate: tuple[type[BaseException], ...],
    **payload: Any,
) -> list[BaseException]:
    """`emit` for an event whose write has already committed: every handler runs even when an
    earlier one fails with one of `tolerate` (a cache outage), so one domain's Redis work does
    not cost another its MongoDB work. Returns what was tolerated, for the caller to log."""
    load_handlers()
    tolerated: list[BaseException] = []
    for handler in _HANDLERS.get(event) or _HANDLERS.setdefault(_known(event), []):
        try:
            await handler(deps, **payload)
        except tolerate as exc:
            tolerated.append(exc)
    return tolerated
