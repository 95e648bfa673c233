"""HLS playlists (RFC 8216): writing the master playlist, and reading the subset of tags that a
VOD master and media playlist use, so our own playlists can be checked and their bandwidth
measured. Unknown tags are kept as they are, never an error (section 6.3.1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# section 4.2: AttributeName=AttributeValue, comma-separated; a quoted string may hold commas.
_ATTRIBUTE = re.compile(r'([A-Z0-9-]+)=("[^"\r\n]*"|[^",\s]*)')


class PlaylistError(ValueError):
    pass


def parse_attributes(text: str) -> dict[str, str]:
    """An attribute list; quoted-string values are returned without their quotes."""
    out: dict[str, str] = {}
    pos = 0
    while pos < len(text):
        m = _ATTRIBUTE.match(text, pos)
        if m is None:
            raise PlaylistError(f"bad attribute list at {text[pos:]!r}")
        value = m.group(2)
        out[m.group(1)] = value[1:-1] if value.startswith('"') else value
        pos = m.end()
        if pos < len(text):
            if text[pos] != ",":
                raise PlaylistError(f"expected ',' at {text[pos:]!r}")
            pos += 1
    return out


@dataclass(frozen=True, slots=True)
class Variant:
    uri: str
    attributes: dict[str, str]

    @property
    def bandwidth(self) -> int:
        return int(self.attributes["BANDWIDTH"])

    @property
    def resolution(self) -> tuple[int, int] | None:
        value = self.attributes.get("RESOLUTION")
        if not value:
            return None
        w, _, h = value.lower().partition("x")
        return int(w), int(h)


@dataclass(frozen=True, slots=True)
class Segment:
    uri: str
    duration: float
    title: str = ""
    byterange: str | None = None


@dataclass(slots=True)
class MediaPlaylist:
    target_duration: int
    segments: list[Segment] = field(default_factory=list)
    version: int = 1
    media_sequence: int = 0
    playlist_type: str | None = None
    endlist: bool = False

    @property
    def duration(self) -> float:
        return sum(s.duration for s in self.segments)


def _lines(text: str) -> list[str]:
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln]
    if not lines or lines[0] != "#EXTM3U":
        raise PlaylistError("a playlist starts with #EXTM3U")
    return lines[1:]


def is_master(text: str) -> bool:
    return "#EXT-X-STREAM-INF:" in text


def parse_master_playlist(text: str) -> list[Variant]:
    """The variant streams (EXT-X-STREAM-INF, each followed by its URI line)."""
    variants: list[Variant] = []
    pending: dict[str, str] | None = None
    for line in _lines(text):
        if line.startswith("#EXT-X-STREAM-INF:"):
            pending = parse_attributes(line.split(":", 1)[1])
            if "BANDWIDTH" not in pending:
                raise PlaylistError("EXT-X-STREAM-INF without BANDWIDTH")
        elif line.startswith("#"):
            continue  # comments and tags this reader does not need
        elif pending is not None:
            variants.append(Variant(uri=line, attributes=pending))
            pending = None
    if pending is not None:
        raise PlaylistError("EXT-X-STREAM-INF without a URI")
    return variants


def parse_media_playlist(text: str) -> MediaPlaylist:
    target: int | None = None
    out = MediaPlaylist(target_duration=0)
    inf: tuple[float, str] | None = None
    byterange: str | None = None
    for line in _lines(text):
        tag, _, value = line.partition(":")
        if tag == "#EXT-X-TARGETDURATION":
            target = int(value)
        elif tag == "#EXT-X-VERSION":
            out.version = int(value)
        elif tag == "#EXT-X-MEDIA-SEQUENCE":
            out.media_sequence = int(value)
        elif tag == "#EXT-X-PLAYLIST-TYPE":
            out.playlist_type = value
        elif tag == "#EXT-X-ENDLIST":
            out.endlist = True
        elif tag == "#EXTINF":
            duration, _, title = value.partition(",")
            inf = (float(duration), title)
        elif tag == "#EXT-X-BYTERANGE":
            byterange = value
        elif line.startswith("#"):
            continue
        else:
            if inf is None:
                raise PlaylistError(f"segment {line!r} without #EXTINF")
            out.segments.append(Segment(line, inf[0], inf[1], byterange))
            inf, byterange = None, None
    if target is None:
        raise PlaylistError("a media playlist needs #EXT-X-TARGETDURATION")
    out.target_duration = target
    for s in out.segments:
        # section 4.3.3.1: each EXTINF, rounded to an integer, is at most the target duration.
        if round(s.duration) > target:
            raise PlaylistError(f"segment {s.uri} is longer than the target duration")
    return out


@dataclass(frozen=True, slots=True)
class MasterVariant:
    uri: str
    bandwidth: int  # peak segment bitrate (section 4.3.4.2)
    average_bandwidth: int
    width: int
    height: int
    codecs: str
    frame_rate: float


def write_master_playlist(variants: list[MasterVariant]) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for v in sorted(variants, key=lambda v: v.bandwidth):
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={v.bandwidth},AVERAGE-BANDWIDTH={v.average_bandwidth},"
            f'RESOLUTION={v.width}x{v.height},FRAME-RATE={v.frame_rate:.3f},CODECS="{v.codecs}"'
        )
        lines.append(v.uri)
    return "\n".join(lines) + "\n"
