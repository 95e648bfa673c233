"""Every Redis key the feed engine reads or writes, in one place."""

from __future__ import annotations

from datetime import datetime

from bson import ObjectId

from datastore.stores import Stores

Id = ObjectId | str


class FeedKeys:
    def __init__(self, stores: Stores) -> None:
        self._k = stores.keys

    def timeline(self, user: Id) -> str:
        """zset post id -> publish time (ms): the home timeline, capped at TIMELINE_CAP."""
        return self._k("tl", user)

    def timeline_built(self, user: Id) -> str:
        """marker: the timeline was built from MongoDB and is kept by fan-out since."""
        return self._k("tlb", user)

    def authored(self, author: Id) -> str:
        """zset post id -> publish time (ms): an author's recent READY posts (pull source)."""
        return self._k("authored", author)

    def authored_built(self, author: Id) -> str:
        return self._k("authb", author)

    def celebrities(self) -> str:
        """set of authors whose posts are currently pulled at read time, not fanned out."""
        return self._k("celebs")

    def active(self) -> str:
        """zset user id -> last feed read (ms): fan-out skips users absent or too old here."""
        return self._k("active")

    def affinity(self, viewer: Id) -> str:
        """hash author id -> number of the viewer's likes and comments on that author's posts."""
        return self._k("aff", viewer)

    def ranked_snapshot(self, viewer: Id, snapshot: str) -> str:
        """list of post ids in RANKED order for one paging session (expires)."""
        return self._k("rk", viewer, snapshot)

    def ranked_latest(self, viewer: Id) -> str:
        """string: the viewer's newest RANKED snapshot, which a first page reuses for a while
        (feed/reader.py); any change to the viewer's timeline deletes it."""
        return self._k("rkl", viewer)

    def explore(self) -> str:
        """zset post id -> engagement score with decay, refreshed by the worker."""
        return self._k("explore")

    # Owned by the accounts domain (docs/data-model.md); read here.
    def followers(self, user: Id) -> str:
        return self._k("followers", user)

    def following(self, user: Id) -> str:
        return self._k("following", user)


def score_of(post: dict) -> int:
    """A post's timeline score: its publish time in milliseconds."""
    return score_at(post.get("published_at") or post["created_at"])


def score_at(published: datetime) -> int:
    return int(published.timestamp() * 1000)
