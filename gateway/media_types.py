"""Content negotiation for GraphQL over HTTP: which media type a response is encoded in, from
the request's `Accept` header (the GraphQL-over-HTTP spec, "Accept" and "Legacy watershed").

- `application/graphql-response+json` when the client accepts it at the highest q-value it
  gives any type we serve (clients list it first; on a tie it wins, it says more);
- `application/json` when asked for, for `*/*` and `application/*`, and when Accept is absent
  or empty (the spec's default for legacy clients);
- None when nothing listed matches (or only with q=0): the view answers 406.

The answer is memoised per header value: clients send a handful of distinct Accept strings, so
after the first request a negotiation is one dict lookup, not a parse.
"""

from __future__ import annotations

from functools import lru_cache

GRAPHQL_RESPONSE_JSON = "application/graphql-response+json"
APPLICATION_JSON = "application/json"

# The types each media range stands for, with its specificity (RFC 9110 12.5.1: the most
# specific range that matches a type gives that type its q-value, so `application/json;q=0`
# beats `*/*`).
_RANGES: dict[str, tuple[str, int]] = {
    GRAPHQL_RESPONSE_JSON: (GRAPHQL_RESPONSE_JSON, 2),
    APPLICATION_JSON: (APPLICATION_JSON, 2),
    # A wildcard means the default, application/json, not the newer type.
    "application/*": (APPLICATION_JSON, 1),
    "*/*": (APPLICATION_JSON, 0),
}
# On equal q-values, the first of these that the client accepts.
_PREFERENCE = (GRAPHQL_RESPONSE_JSON, APPLICATION_JSON)


def _q_value(params: list[str]) -> float:
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "q":
            try:
                q = float(value.strip())
            except ValueError:
                return 0.0
            return min(max(q, 0.0), 1.0)
    return 1.0


@lru_cache(maxsize=256)
def negotiate(accept: str | None) -> str | None:
    """The media type to answer in for this Accept header, or None for 406 Not Acceptable."""
    if accept is None or not accept.strip():
        return APPLICATION_JSON
    best: dict[str, tuple[int, float]] = {}
    for item in accept.split(","):
        media, *params = item.split(";")
        matched = _RANGES.get(media.strip().lower())
        if matched is None:
            continue
        served, specificity = matched
        q = _q_value(params)
        seen = best.get(served)
        if seen is None or (specificity, q) > seen:
            best[served] = (specificity, q)
    accepted = {media: q for media, (_, q) in best.items() if q > 0}
    if not accepted:
        return None
    top = max(accepted.values())
    return next(media for media in _PREFERENCE if accepted.get(media) == top)
