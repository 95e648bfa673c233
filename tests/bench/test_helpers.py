"""Pure helpers of the benchmark (bench/): the benchmark itself never runs in `make test`."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from bench.dataset import SCALES, generate
from bench.loadgen import lua_script
from bench.report import _ratio


def _tiny():
    return replace(
        SCALES["small"],
        users=400,
        posts=2_000,
        likes=3_000,
        comments=200,
        heavy_viewers=3,
        heavy_follows=150,
    )


def test_the_dataset_is_reproducible_from_its_seed_and_consistent():
    a = generate(_tiny(), 7, now_ms=1_790_000_000_000)
    b = generate(_tiny(), 7, now_ms=1_790_000_000_000)
    assert a.user_ids == b.user_ids and a.post_ids == b.post_ids
    assert all((x == y).all() for x, y in zip(a.following, b.following, strict=True))
    # followers are exactly the inverse of following, with no duplicate edges
    for i, followees in enumerate(a.following):
        assert len(set(followees.tolist())) == len(followees)
        assert i not in set(followees.tolist())
        for f in followees.tolist():
            assert i in a.followers[f]
    assert sum(len(f) for f in a.followers) == sum(len(f) for f in a.following)
    # heavy viewers: 150 sampled followees plus the delivery authors they happen to follow
    assert all(150 < len(a.following[h]) <= 153 for h in a.heavy)
    counts = a.follower_counts()
    for wanted, author in a.delivery.items():
        assert counts[author] == min(wanted, 400)
    assert (np.diff(a.post_ms) >= 0).all()  # posts sorted by time: authored sets rely on it


def test_a_different_seed_gives_a_different_world():
    assert generate(_tiny(), 1).post_author.tolist() != generate(_tiny(), 2).post_author.tolist()


def test_lua_script_carries_each_token_and_body_verbatim():
    script = lua_script([("tok1", {"query": "{ a }", "variables": {"q": "x]]y"}})])
    assert "[====[Bearer tok1]====]" in script
    assert '[====[{"query":"{ a }","variables":{"q":"x]]y"}}]====]' in script


def test_ratio():
    assert _ratio(703.2, 586) == "1.20x"
    assert _ratio(1, 0) == "n/a"
