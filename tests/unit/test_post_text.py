import unicodedata

from services.text import normalize, parse_hashtags, parse_mentions


def test_hashtags_are_unicode_nfc_lowercase_distinct_in_order():
    decomposed = "Cafe\u0301"  # "Café" written with a combining accent
    caption = f"Sunny #Beach day #beach #{decomposed} #café #日本 #Über_Alles end"
    tags = parse_hashtags(caption)
    assert tags == ["beach", "café", "日本", "über_alles"]
    assert all(unicodedata.is_normalized("NFC", t) for t in tags)


def test_hashtag_boundaries():
    assert parse_hashtags("a#b c&#39;s ##double #1 #_ #ok!") == ["ok"]
    assert parse_hashtags("(#paren) #end.") == ["paren", "end"]
    assert parse_hashtags("") == []


def test_mentions_unicode_and_boundaries():
    caption = "hi @Alice. and @bob_1, mail bob@example.com, @ALICE again, @José @a.b."
    assert parse_mentions(caption) == ["alice", "bob_1", "josé", "a.b"]
    assert parse_mentions("@@x #@y") == []


def test_normalize_is_nfc_lowercase():
    assert normalize("ÉCOLE") == "école"
    assert normalize("E\u0301") == "é"
