"""search.text: pure normalization (no services)."""

import pytest

from core.errors import BadInput
from search import text


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("José", "jose"),
        ("JOSÉ", "jose"),
        ("Ｊｏｓé", "jose"),  # fullwidth
        ("Straße", "strasse"),
        ("Øresund", "oresund"),
        ("Łódź", "lodz"),
        ("İstanbul", "istanbul"),
        ("Ærø", "aero"),
        ("Café", "cafe"),
        ("東京", "東京"),
    ],
)
def test_fold_drops_case_accents_and_width(raw, folded):
    assert text.fold(raw) == folded


def test_words_split_on_anything_not_a_letter_or_digit():
    assert text.words("José-María_2 (O'Neil)") == ["jose", "maria", "2", "o", "neil"]
    assert text.words("...") == []


def test_user_terms_cover_whole_names_and_words():
    terms = text.user_terms("jose.garcia_88", "José García")
    assert terms[0] == "josegarcia88"
    assert {"jose", "garcia", "88", "josegarcia"} <= set(terms)
    assert len(terms) == len(set(terms))


def test_prefixes():
    assert text.prefixes("jose", 3) == ["j", "jo", "jos"]
    assert text.prefixes("jo", 3) == ["j", "jo"]


def test_hashtag_key_keeps_accents_but_not_case_or_hash():
    assert text.hashtag_key("#Café") == "café"
    assert text.hashtag_key("##New_York") == "new_york"
    assert text.hashtag_key("#a.b") == "ab"
    assert text.hashtag_key("#") == ""


def test_query_parsing_and_matching():
    q = text.parse_query("  Jose   GAR ")
    assert q.tokens == ("jose", "gar")
    assert q.lead == "jose"
    assert q.matches(["garcia", "jose"])
    assert q.matches(["josegarcia"])  # the words run together
    assert not q.matches(["jose", "martinez"])


@pytest.mark.parametrize("raw", ["", "   ", ".*", "(((", "[a-z]+$", "\x00\x01", "🙂🙂", "'; DROP"])
def test_queries_without_words_are_empty_or_literal(raw):
    q = text.parse_query(raw)
    assert all(tok.isalnum() for tok in q.tokens)


def test_regex_metacharacters_are_not_syntax():
    assert text.parse_query("a.*b").tokens == ("a", "b")
    assert text.parse_query(".*").empty


def test_a_long_query_is_bad_input():
    with pytest.raises(BadInput):
        text.parse_query("a" * 1024)
    assert text.parse_query("a" * text.MAX_QUERY_CHARS).tokens == ("a" * text.MAX_TERM_CHARS,)


def test_many_words_are_capped():
    assert len(text.parse_query(" ".join("abcdefghij")).tokens) == text.MAX_QUERY_WORDS
