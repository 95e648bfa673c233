"""media/hls.py against the examples of RFC 8216, section 8, and our own master playlist."""

import pytest

from media.hls import (
    MasterVariant,
    PlaylistError,
    is_master,
    parse_attributes,
    parse_master_playlist,
    parse_media_playlist,
    write_master_playlist,
)

SIMPLE_MEDIA = """#EXTM3U
#EXT-X-TARGETDURATION:10
#EXT-X-VERSION:3
#EXTINF:9.009,
http://media.example.com/first.ts
#EXTINF:9.009,
http://media.example.com/second.ts
#EXTINF:3.003,
http://media.example.com/third.ts
#EXT-X-ENDLIST
"""

LIVE_MEDIA = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:8
#EXT-X-MEDIA-SEQUENCE:2680

#EXTINF:7.975,
https://priv.example.com/fileSequence2680.ts
#EXTINF:7.941,
https://priv.example.com/fileSequence2681.ts
#EXTINF:7.975,
https://priv.example.com/fileSequence2682.ts
"""

ENCRYPTED_MEDIA = """#EXTM3U
#EXT-X-VERSION:3
#EXT-X-MEDIA-SEQUENCE:7794
#EXT-X-TARGETDURATION:15

#EXT-X-KEY:METHOD=AES-128,URI="https://priv.example.com/key.php?r=52"

#EXTINF:2.833,
http://media.example.com/fileSequence52-A.ts
#EXTINF:15.0,
http://media.example.com/fileSequence52-B.ts
#EXTINF:13.333,
http://media.example.com/fileSequence52-C.ts

#EXT-X-KEY:METHOD=AES-128,URI="https://priv.example.com/key.php?r=53"

#EXTINF:15.0,
http://media.example.com/fileSequence53-A.ts
"""

MASTER = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=1280000,AVERAGE-BANDWIDTH=1000000
http://example.com/low.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2560000,AVERAGE-BANDWIDTH=2000000
http://example.com/mid.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=7680000,AVERAGE-BANDWIDTH=6000000
http://example.com/hi.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=65000,CODECS="mp4a.40.5"
http://example.com/audio-only.m3u8
"""

MASTER_IFRAMES = """#EXTM3U
#EXT-X-STREAM-INF:BANDWIDTH=1280000
low/audio-video.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=86000,URI="low/iframe.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=2560000
mid/audio-video.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=150000,URI="mid/iframe.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=7680000
hi/audio-video.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=550000,URI="hi/iframe.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=65000,CODECS="mp4a.40.5"
audio-only.m3u8
"""


def test_simple_media_playlist():
    p = parse_media_playlist(SIMPLE_MEDIA)
    assert (p.target_duration, p.version, p.endlist) == (10, 3, True)
    assert [s.uri.rsplit("/", 1)[1] for s in p.segments] == ["first.ts", "second.ts", "third.ts"]
    assert p.duration == pytest.approx(21.021)


def test_live_media_playlist_has_no_end():
    p = parse_media_playlist(LIVE_MEDIA)
    assert (p.media_sequence, p.endlist, len(p.segments)) == (2680, False, 3)


def test_encrypted_media_playlist_keeps_segments_between_key_tags():
    p = parse_media_playlist(ENCRYPTED_MEDIA)
    assert (p.media_sequence, p.target_duration, len(p.segments)) == (7794, 15, 4)
    assert [s.duration for s in p.segments] == [2.833, 15.0, 13.333, 15.0]


def test_master_playlists():
    assert is_master(MASTER) and not is_master(SIMPLE_MEDIA)
    variants = parse_master_playlist(MASTER)
    assert [v.bandwidth for v in variants] == [1280000, 2560000, 7680000, 65000]
    assert variants[3].attributes["CODECS"] == "mp4a.40.5"
    # I-frame playlists are tags with a URI attribute, not variants.
    uris = [v.uri for v in parse_master_playlist(MASTER_IFRAMES)]
    assert uris == [
        "low/audio-video.m3u8",
        "mid/audio-video.m3u8",
        "hi/audio-video.m3u8",
        "audio-only.m3u8",
    ]


def test_attribute_lists():
    attrs = parse_attributes('BANDWIDTH=1,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2",X-Y=Z')
    assert attrs == {
        "BANDWIDTH": "1",
        "RESOLUTION": "640x360",
        "CODECS": "avc1.64001e,mp4a.40.2",
        "X-Y": "Z",
    }
    for bad in ('CODECS="open', "bandwidth=1", "BANDWIDTH=1,,X=2"):
        with pytest.raises(PlaylistError):
            parse_attributes(bad)


@pytest.mark.parametrize(
    "text",
    [
        "#EXT-X-TARGETDURATION:10\n#EXTINF:9,\na.ts\n",  # no #EXTM3U
        "#EXTM3U\n#EXTINF:9,\na.ts\n",  # no target duration
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:9,\na.ts\n",  # segment over the target
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\na.ts\n",  # a URI without EXTINF
    ],
)
def test_bad_media_playlists(text):
    with pytest.raises(PlaylistError):
        parse_media_playlist(text)


def test_written_master_round_trips():
    variants = [
        MasterVariant("720p.m3u8", 2_000_000, 1_500_000, 1280, 720, "avc1.64001f,mp4a.40.2", 30.0),
        MasterVariant("360p.m3u8", 600_000, 400_000, 640, 360, "avc1.64001e,mp4a.40.2", 30.0),
    ]
    parsed = parse_master_playlist(write_master_playlist(variants))
    assert [v.uri for v in parsed] == ["360p.m3u8", "720p.m3u8"]  # lowest first
    assert parsed[1].resolution == (1280, 720)
    assert parsed[1].attributes["CODECS"] == "avc1.64001f,mp4a.40.2"
