"""RANKED order: the design doc's engagement score with time decay, plus affinity.

engagement = (likes + 2 * comments) / max(age_hours, 1)           (the design doc's formula)
score      = (engagement + freshness) * (1 + ln(1 + affinity))

`freshness` keeps brand-new posts with no engagement yet from all tying at zero (it is
1 / (1 + age_hours), so it decays within a day), and `affinity` counts the viewer's likes and
comments on the author's posts, so people the viewer interacts with rise.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    post_id: str
    author_id: str
    published_at: datetime
    likes: int
    comments: int


def engagement_score(likes: int, comments: int, age_hours: float) -> float:
    return (likes + 2 * comments) / max(age_hours, 1.0)


def rank_score(c: Candidate, now: datetime, affinity: int) -> float:
    age_hours = max((now - c.published_at).total_seconds() / 3600, 0.0)
    freshness = 1.0 / (1.0 + age_hours)
    return (engagement_score(c.likes, c.comments, age_hours) + freshness) * (
        1.0 + math.log1p(max(affinity, 0))
    )


def candidate_of(post: dict) -> Candidate:
    """A post document's ranking fields."""
    return Candidate(
        str(post["_id"]),
        str(post["author_id"]),
        post.get("published_at") or post["created_at"],
        int(post.get("like_count", 0)),
        int(post.get("comment_count", 0)),
    )


def rank(candidates: Iterable[Candidate], now: datetime, affinity: dict[str, int]) -> list[str]:
    """Post ids, best first; ties broken by recency then id so the order is deterministic."""
    scored = [
        (rank_score(c, now, affinity.get(c.author_id, 0)), c.published_at, c.post_id)
        for c in candidates
    ]
    scored.sort(key=lambda t: (t[0], t[1], t[2]), reverse=True)
    return [post_id for _, _, post_id in scored]
