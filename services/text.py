"""Caption parsing: hashtags and @mentions, Unicode-aware and normalized (NFC, lowercase).

Pure functions, no I/O: the same rules serve createPost, editPost and the tests.
"""

from __future__ import annotations

import re
import unicodedata

# A tag or mention must not be glued to a preceding word character, `&` or another marker, so
# "a#b", "&#39;", "##x" and e-mail addresses ("bob@example.com") are not parsed.
_HASHTAG = re.compile(r"(?<![\w&#@])#(\w+)")
# Usernames allow letters, digits, "_" and "."; a trailing "." is sentence punctuation.
_MENTION = re.compile(r"(?<![\w@#.])@([\w.]+)")

MAX_HASHTAG_LENGTH = 100


def normalize(value: str) -> str:
    """NFC, lowercase, NFC again (lowercasing can un-compose a few characters)."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", value).lower())


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def parse_hashtags(caption: str) -> list[str]:
    """Distinct normalized hashtag names in order of first use. A tag made only of digits or
    underscores is not a tag (e.g. "#1")."""
    text = unicodedata.normalize("NFC", caption)
    tags = []
    for match in _HASHTAG.finditer(text):
        name = normalize(match.group(1))
        if any(ch.isalpha() for ch in name) and len(name) <= MAX_HASHTAG_LENGTH:
            tags.append(name)
    return _unique(tags)


def parse_mentions(caption: str) -> list[str]:
    """Distinct normalized usernames mentioned with "@name", in order of first use."""
    text = unicodedata.normalize("NFC", caption)
    names = []
    for match in _MENTION.finditer(text):
        name = normalize(match.group(1).rstrip("."))
        if name:
            names.append(name)
    return _unique(names)


def normalize_location_name(name: str) -> str:
    """The key two spellings of one place share: NFC lowercase, whitespace collapsed."""
    return " ".join(normalize(name).split())
