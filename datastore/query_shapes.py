"""Every repository query declares its shape here, next to the indexes of its collection, so a
test (tests/.../test_index_coverage.py) can prove each shape has an index that serves it and each
index serves some shape. On FerretDB 1.24 indexes are not used; on MongoDB an unserved shape is a
collection scan.

A shape is what the planner needs: the fields compared by equality (`$eq`, or `$in` on a few
values), then the sort keys in order, then at most one range field (`$gt`/`$lt`) not already in
the sort. An index serves it when its key prefix is the equality fields (any order), then the
sort keys (all in the index's direction or all reversed), then the range field (ESR rule).
A shape with `_id` among its equality fields is a point read, served by `_id_`; declare it with
`equality=["_id"]`. A shape with no fields at all declares a whole-collection read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from pymongo import IndexModel


@dataclass(frozen=True)
class QueryShape:
    collection: str
    name: str
    equality: tuple[str, ...] = ()
    sort: tuple[tuple[str, int], ...] = ()
    range: str | None = None


_SHAPES: list[QueryShape] = []


def query(
    collection: str,
    name: str,
    *,
    equality: Sequence[str] = (),
    sort: Sequence[tuple[str, int]] = (),
    range: str | None = None,
) -> QueryShape:
    """Declare one query's shape (at import time, next to the repository function using it)."""
    shape = QueryShape(collection, name, tuple(equality), tuple(sort), range)
    _SHAPES.append(shape)
    return shape


def declared_shapes() -> list[QueryShape]:
    return list(_SHAPES)


@dataclass
class Coverage:
    unserved: list[QueryShape] = field(default_factory=list)
    unused: list[tuple[str, str]] = field(default_factory=list)  # (collection, index name)


def _keys(index: IndexModel) -> list[tuple[str, int]]:
    return [(k, int(v)) for k, v in index.document["key"].items()]


def serves(index_keys: Sequence[tuple[str, int]], shape: QueryShape) -> bool:
    keys = list(index_keys)
    n_eq = len(shape.equality)
    if {k for k, _ in keys[:n_eq]} != set(shape.equality) or len(keys) < n_eq:
        return False
    rest = keys[n_eq:]
    sort = [(k, d) for k, d in shape.sort if k not in shape.equality]
    if sort:
        head = rest[: len(sort)]
        if [k for k, _ in head] != [k for k, _ in sort]:
            return False
        same = all(d == hd for (_, d), (_, hd) in zip(sort, head, strict=True))
        flipped = all(d == -hd for (_, d), (_, hd) in zip(sort, head, strict=True))
        if not (same or flipped):
            return False
        rest = rest[len(sort) :]
    if shape.range and shape.range not in shape.equality and shape.range not in dict(sort):
        return bool(rest) and rest[0][0] == shape.range
    return True


def check_coverage(indexes: dict[str, list[IndexModel]], shapes: Sequence[QueryShape]) -> Coverage:
    """Shapes no index serves, and indexes serving no shape. `_id` is MongoDB's own index."""
    result = Coverage()
    used: set[tuple[str, str]] = set()
    for shape in shapes:
        if "_id" in shape.equality or not (shape.equality or shape.sort or shape.range):
            # A point read (whatever else it filters on) is `_id_`'s; a shape with no fields
            # is a deliberate whole-collection read, which no index would help.
            used.add((shape.collection, "_id_"))
            continue
        candidates = [(ix.document["name"], _keys(ix)) for ix in indexes.get(shape.collection, [])]
        serving = [name for name, keys in candidates if serves(keys, shape)]
        if not serving:
            result.unserved.append(shape)
        used.update((shape.collection, name) for name in serving)
    for collection, ixs in indexes.items():
        for ix in ixs:
            # A TTL index exists for expiry and a unique one for integrity (a second follow
            # request between two accounts is refused), whether or not a query uses them.
            if "expireAfterSeconds" in ix.document or ix.document.get("unique"):
                continue
            if (collection, ix.document["name"]) not in used:
                result.unused.append((collection, ix.document["name"]))
    return result
