"""Accept-header negotiation (gateway/media_types.py): q-values, wildcards, specificity, 406."""

from __future__ import annotations

import pytest

from gateway.media_types import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, negotiate

GQL, JSON = GRAPHQL_RESPONSE_JSON, APPLICATION_JSON


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, JSON),
        ("", JSON),
        ("*/*", JSON),
        ("application/*", JSON),
        ("application/json", JSON),
        ("Application/JSON; charset=utf-8", JSON),
        (GQL, GQL),
        # What Apollo, urql and graphql-http's client send.
        (f"{GQL}, {JSON};q=0.9", GQL),
        (f"{JSON}, {GQL}", GQL),
        (f"{JSON};q=1, {GQL};q=0.5", JSON),
        (f"{GQL};q=0, */*", JSON),
        ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", JSON),
        ("text/html", None),
        ("image/png, text/plain", None),
        ("*/*;q=0", None),
        # The most specific range decides: an explicit q=0 is not overridden by */*.
        (f"{JSON};q=0, */*", None),
        (f"{JSON};q=0.2, {GQL};q=bogus", JSON),
    ],
)
def test_negotiate(accept: str | None, expected: str | None) -> None:
    assert negotiate(accept) == expected
