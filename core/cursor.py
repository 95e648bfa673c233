"""Opaque, signed pagination cursors.

A cursor names the connection it belongs to (`kind`), so one taken from another list is refused,
and it is HMAC-signed, so a tampered cursor is refused rather than trusted. The signing key and
the page limits come from the settings a codec is built with: resolvers use their context's
(`ctx.cursors`), the domain `cursor_codec(stores.settings)`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

import orjson

from core.errors import BadInput
from core.settings import Settings

_SIG_BYTES = 8


class CursorCodec:
    __slots__ = ("_key", "default_page_size", "max_page_size")

    def __init__(self, settings: Settings) -> None:
        secret = settings.jwt_secret.get_secret_value().encode()
        self._key = hashlib.sha256(b"cursor:" + secret).digest()
        self.default_page_size = settings.default_page_size
        self.max_page_size = settings.max_page_size

    def encode(self, kind: str, payload: Any) -> str:
        body = orjson.dumps([kind, payload])
        sig = hmac.new(self._key, body, hashlib.sha256).digest()[:_SIG_BYTES]
        return base64.urlsafe_b64encode(sig + body).rstrip(b"=").decode()

    def decode(self, kind: str, cursor: str) -> Any:
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            sig, body = raw[:_SIG_BYTES], raw[_SIG_BYTES:]
            expected = hmac.new(self._key, body, hashlib.sha256).digest()[:_SIG_BYTES]
            if not hmac.compare_digest(sig, expected):
                raise ValueError("bad signature")
            found_kind, payload = orjson.loads(body)
        except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
            raise BadInput("Malformed cursor", argument="after") from exc
        if found_kind != kind:
            raise BadInput("This cursor belongs to another list", argument="after")
        return payload

    def decode_position(self, kind: str, cursor: str) -> tuple[int, str]:
        """A `(score, ObjectId hex)` position cursor, as timelines and the profile grid use."""
        payload = self.decode(kind, cursor)
        if not (
            isinstance(payload, list)
            and len(payload) == 2
            and isinstance(payload[0], int)
            and isinstance(payload[1], str)
            and len(payload[1]) == 24
            and all(c in "0123456789abcdef" for c in payload[1])
        ):
            raise BadInput("Malformed cursor", argument="after")
        return payload[0], payload[1]

    def clamp_first(self, first: int | None) -> int:
        """Validate a connection's `first` against the configured default and maximum."""
        if first is None:
            return self.default_page_size
        if first < 0:
            raise BadInput("`first` must not be negative", argument="first")
        if first > self.max_page_size:
            raise BadInput(
                f"`first` must be at most {self.max_page_size}",
                argument="first",
                maximum=self.max_page_size,
            )
        return first


# Built once per distinct key and limits: a process has one or two, a test process one per
# settings it makes (few distinct secrets).
_CODECS: dict[tuple[str, int, int], CursorCodec] = {}


def cursor_codec(settings: Settings) -> CursorCodec:
    ident = (
        settings.jwt_secret.get_secret_value(),
        settings.default_page_size,
        settings.max_page_size,
    )
    codec = _CODECS.get(ident)
    if codec is None:
        codec = _CODECS[ident] = CursorCodec(settings)
    return codec
