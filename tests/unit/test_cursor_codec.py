"""Cursors are signed with the key of the settings they were made with, name their list, and
the page-size limits come from the same settings. Pure: no services."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from core.cursor import cursor_codec
from core.errors import BadInput
from core.settings import Settings


def _codec(secret: str = "a" * 40, **limits: int):
    return cursor_codec(Settings(jwt_secret=SecretStr(secret), **limits))


def test_a_cursor_round_trips_and_names_its_list() -> None:
    codec = _codec()
    cursor = codec.encode("feed-recent", [1700000000000, "a" * 24])
    assert codec.decode("feed-recent", cursor) == [1700000000000, "a" * 24]
    assert codec.decode_position("feed-recent", cursor) == (1700000000000, "a" * 24)
    with pytest.raises(BadInput, match="another list"):
        codec.decode("followers", cursor)


def test_a_tampered_cursor_or_another_key_is_refused() -> None:
    codec = _codec()
    cursor = codec.encode("comments", "65f0c0ffee")
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    for bad in (flipped, "garbage", ""):
        with pytest.raises(BadInput, match="Malformed"):
            codec.decode("comments", bad)
    with pytest.raises(BadInput, match="Malformed"):
        _codec("b" * 40).decode("comments", cursor)


def test_page_sizes_come_from_the_settings_given() -> None:
    codec = _codec(default_page_size=7, max_page_size=9)
    assert codec.clamp_first(None) == 7 and codec.clamp_first(9) == 9
    with pytest.raises(BadInput):
        codec.clamp_first(10)
    with pytest.raises(BadInput):
        codec.clamp_first(-1)
