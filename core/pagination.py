"""A page of domain results, before the GraphQL layer turns it into a Relay connection."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")
U = TypeVar("U")


class LazyCursors(Sequence[str]):
    """A page's cursors, each signed when first read: a feed query usually reads only
    `pageInfo.endCursor`, and signing all 20 would be a twentieth of the page's cost."""

    __slots__ = ("_done", "_encode", "_payloads")

    def __init__(self, encode: Callable[[Any], str], payloads: list[Any]) -> None:
        self._encode = encode
        self._payloads = payloads
        self._done: dict[int, str] = {}

    def __len__(self) -> int:
        return len(self._payloads)

    @overload
    def __getitem__(self, i: int) -> str: ...
    @overload
    def __getitem__(self, i: slice) -> list[str]: ...
    def __getitem__(self, i: int | slice) -> str | list[str]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self._payloads)))]
        if i < 0:
            i += len(self._payloads)
        if not 0 <= i < len(self._payloads):
            raise IndexError(i)
        found = self._done.get(i)
        if found is None:
            found = self._done[i] = self._encode(self._payloads[i])
        return found

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"LazyCursors({len(self._payloads)})"


@dataclass(slots=True)
class Page(Generic[T]):
    items: list[T]
    cursors: Sequence[str]
    has_next: bool
    extensions: dict[str, object] = field(default_factory=dict)

    def map(self, fn: Callable[[T], U]) -> Page[U]:
        return Page([fn(i) for i in self.items], self.cursors, self.has_next, self.extensions)
