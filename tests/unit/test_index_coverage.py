"""Every declared repository query has an index that serves it, and every index serves some
declared query (datastore/query_shapes.py), for every collection. Pure: no services."""

from __future__ import annotations

from pymongo import ASCENDING, DESCENDING, IndexModel

import datastore.collections  # noqa: F401  (imports every index-registering module)
from datastore.mongo import registered_indexes
from datastore.query_shapes import QueryShape, check_coverage, declared_shapes, serves


def test_every_declared_shape_is_served_and_every_index_serves_one():
    shapes = declared_shapes()
    indexes = registered_indexes()
    # Every collection with indexes declares its queries (a repository without shapes would
    # pass unchecked).
    assert set(indexes) <= {s.collection for s in shapes}
    coverage = check_coverage(indexes, shapes)
    assert coverage.unserved == [], [(s.collection, s.name) for s in coverage.unserved]
    assert coverage.unused == [], coverage.unused


def test_the_posts_recency_queries_use_the_published_at_index():
    """The mismatch issue 14 names: posts were indexed (author_id, status, _id) while every
    recency read sorts by (published_at, _id)."""
    old = [("author_id", 1), ("status", 1), ("_id", -1)]
    [shape] = [s for s in declared_shapes() if s.name == "ready_by_authors_newest"]
    assert not serves(old, shape)
    assert any(
        serves(list(ix.document["key"].items()), shape) for ix in registered_indexes()["posts"]
    )


def _shape(**kw) -> QueryShape:
    return QueryShape("c", "q", **kw)


def test_the_esr_rule():
    ix = [("a", 1), ("b", 1), ("t", -1), ("_id", -1), ("r", 1)]
    assert serves(ix, _shape(equality=("b", "a")))
    assert serves(ix, _shape(equality=("a", "b"), sort=(("t", -1), ("_id", -1))))
    assert serves(ix, _shape(equality=("a", "b"), sort=(("t", 1), ("_id", 1))))  # reversed
    assert not serves(ix, _shape(equality=("a", "b"), sort=(("t", -1), ("_id", 1))))
    assert not serves(ix, _shape(equality=("a",), sort=(("t", -1),)))  # b in between
    assert serves(ix, _shape(equality=("a", "b"), sort=(("t", -1), ("_id", -1)), range="r"))
    assert not serves(ix, _shape(equality=("a", "b"), range="r"))
    assert serves([("s", 1), ("p", 1)], _shape(equality=("s",), range="p"))


def test_check_coverage_reports_both_directions():
    shapes = [
        _shape(equality=("a",)),
        QueryShape("c", "point", equality=("_id", "a")),
        QueryShape("c", "scan"),
        QueryShape("c", "unserved", equality=("z",)),
    ]
    indexes = {
        "c": [
            IndexModel([("a", ASCENDING)]),
            IndexModel([("b", DESCENDING)]),
            IndexModel([("t", ASCENDING)], expireAfterSeconds=60),
        ]
    }
    coverage = check_coverage(indexes, shapes)
    assert [s.name for s in coverage.unserved] == ["unserved"]
    assert coverage.unused == [("c", "b_-1")]
