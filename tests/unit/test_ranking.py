from datetime import UTC, datetime, timedelta

from feed.ranking import Candidate, engagement_score, rank, rank_score

NOW = datetime(2026, 11, 24, 12, tzinfo=UTC)


def cand(
    pid: str, hours_ago: float, likes: int = 0, comments: int = 0, author: str = "a"
) -> Candidate:
    return Candidate(pid, author, NOW - timedelta(hours=hours_ago), likes, comments)


def test_engagement_follows_the_design_doc_formula():
    assert engagement_score(10, 5, 4.0) == (10 + 2 * 5) / 4.0
    # Posts younger than an hour are not divided by a fraction.
    assert engagement_score(10, 0, 0.1) == 10.0


def test_comments_weigh_twice_likes():
    assert rank_score(cand("a", 2, likes=2), NOW, 0) == rank_score(cand("b", 2, comments=1), NOW, 0)


def test_older_posts_decay():
    assert rank(([cand("old", 48, likes=20), cand("new", 2, likes=20)]), NOW, {}) == ["new", "old"]


def test_affinity_lifts_an_author_the_viewer_interacts_with():
    posts = [cand("stranger", 1, likes=3, author="s"), cand("friend", 1, likes=3, author="f")]
    assert rank(posts, NOW, {"f": 5}) == ["friend", "stranger"]


def test_order_is_deterministic_on_ties():
    posts = [cand("b", 1), cand("a", 1)]
    assert rank(posts, NOW, {}) == rank(list(reversed(posts)), NOW, {}) == ["b", "a"]
