"""Pure text normalization for search: folding (case and accents), words, prefixes, queries.

Everything the index stores and every query goes through `fold`, so "José", "JOSE" and "jose"
meet on the same key. Only letters and digits survive, which is also what makes queries safe:
no character of a user's query ever reaches Redis with a meaning (no patterns, no regexes).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from core.errors import BadInput

# Letters NFKD does not decompose but that people type without their diacritic.
_EXTRA_FOLDS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
    }
)

# A query is typed into a search box; anything longer is not a search (and would make
# index ranges needlessly long), so it is refused rather than silently cut.
MAX_QUERY_CHARS = 100
MAX_QUERY_WORDS = 6
# Terms longer than this are cut when indexed and queried alike, so a match still works.
MAX_TERM_CHARS = 32


def fold(text: str) -> str:
    """Lowercase, strip accents and compatibility forms: "Ｊosé" -> "jose"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return unicodedata.normalize("NFC", stripped.translate(_EXTRA_FOLDS))


def words(text: str) -> list[str]:
    """Folded runs of letters and digits, in order: "José-María_2" -> ["jose", "maria", "2"]."""
    out: list[str] = []
    current: list[str] = []
    for ch in fold(text):
        if ch.isalnum():
            current.append(ch)
        elif current:
            out.append("".join(current)[:MAX_TERM_CHARS])
            current = []
    if current:
        out.append("".join(current)[:MAX_TERM_CHARS])
    return out


def compact(text: str) -> str:
    """All letters and digits run together: "jose.garcia" -> "josegarcia"."""
    return "".join(words(text))[:MAX_TERM_CHARS]


def user_terms(username: str, full_name: str) -> list[str]:
    """The terms a user is found by: the username whole and by word, the full name whole and by
    word. A query matches when it is a prefix of one of them ("gar" finds "jose_garcia")."""
    terms = [compact(username), *words(username), compact(full_name), *words(full_name)]
    return _unique(terms)


def name_terms(name: str) -> list[str]:
    """Terms of a location name or hashtag: whole (letters and digits) and by word."""
    return _unique([compact(name), *words(name)])


def prefixes(term: str, max_len: int) -> list[str]:
    """The term's prefixes of length 1..max_len."""
    return [term[:n] for n in range(1, min(len(term), max_len) + 1)]


def hashtag_key(name: str) -> str:
    """A hashtag's identity: without leading '#', NFKC, casefolded. Accents are kept (#café and
    #cafe are different tags, as on Instagram); search folds them (a query "cafe" finds both)."""
    cleaned = unicodedata.normalize("NFKC", name.strip()).lstrip("#").casefold()
    return "".join(ch for ch in cleaned if ch.isalnum() or ch == "_")[:100]


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search query: its words (folded), and the longest, which drives retrieval."""

    tokens: tuple[str, ...]

    @property
    def empty(self) -> bool:
        return not self.tokens

    @property
    def lead(self) -> str:
        """The most selective word (the longest; the first of equals): every match has a term
        starting with it, so retrieving by it and filtering by the rest loses nothing."""
        return max(self.tokens, key=len) if self.tokens else ""

    @property
    def joined(self) -> str:
        return "".join(self.tokens)[:MAX_TERM_CHARS]

    def matches(self, terms: list[str] | tuple[str, ...]) -> bool:
        """Every query word is a prefix of some term, or the words run together are."""
        if not self.tokens:
            return False
        joined = self.joined
        if any(t.startswith(joined) for t in terms):
            return True
        return all(any(t.startswith(tok) for t in terms) for tok in self.tokens)


def parse_query(raw: str | None) -> Query:
    """Parse what a user typed. Too long: BAD_USER_INPUT. Nothing searchable in it (empty,
    punctuation, symbols): an empty query, which finds nothing."""
    if raw is None:
        return Query(())
    if len(raw) > MAX_QUERY_CHARS:
        raise BadInput(
            f"A search query must be at most {MAX_QUERY_CHARS} characters",
            argument="query",
            maximum=MAX_QUERY_CHARS,
        )
    # Strip a leading '#' or '@' the user typed out of habit; the rest is words.
    tokens = tuple(_unique(words(raw)))[:MAX_QUERY_WORDS]
    return Query(tokens)


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))
