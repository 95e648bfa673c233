"""Every query of the interactions' repositories has an index that serves it, and every index of
their collections serves a query (pure: no services)."""

import datastore.collections  # noqa: F401  (registers every index)
from datastore.mongo import registered_indexes
from datastore.query_shapes import check_coverage, declared_shapes

COLLECTIONS = {"likes", "comments", "shares", "notifications"}


def test_interaction_queries_and_indexes_match():
    indexes = {c: ixs for c, ixs in registered_indexes().items() if c in COLLECTIONS}
    shapes = [s for s in declared_shapes() if s.collection in COLLECTIONS]
    assert {s.collection for s in shapes} == COLLECTIONS
    coverage = check_coverage(indexes, shapes)
    assert coverage.unserved == []
    assert coverage.unused == []
