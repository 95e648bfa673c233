"""Transcoding a video for every screen: an H.264/AAC ladder that never upscales, HLS, a preview.

One decode of the source feeds one filter graph per output (rotate upright, constant frame rate,
scale to even dimensions), so variable frame rates, display matrices and odd sizes all come out
as plain upright yuv420p at a fixed rate. Every rung is an MP4 with its index in front
(`+faststart`); the same packets are then cut into MPEG-TS segments for HLS (no second encode).
Keyframes are forced every `segment_seconds` on every rung, so the renditions' segments line up
and a player can switch between them at any boundary.

Files are written under `out_dir` and left there for the caller to upload:
  {rung}.mp4, preview.mp4, hls/master.m3u8, hls/{rung}.m3u8, hls/{rung}_NNN.ts
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction

import av
from av.filter import Graph

from media.hls import MasterVariant, parse_media_playlist, write_master_playlist

MAX_FPS = 30
PREVIEW_FPS = 15
PREVIEW_SHORT_SIDE = 240
AUDIO_RATE = 48_000


@dataclass(frozen=True, slots=True)
class Rung:
    name: str
    short_side: int  # the smaller of width and height, so 9:16 and 16:9 share a ladder
    video_bitrate: int  # cap (bits/s): maxrate of a capped CRF encode
    audio_bitrate: int


LADDER: tuple[Rung, ...] = (
    Rung("360p", 360, 800_000, 64_000),
    Rung("720p", 720, 2_500_000, 128_000),
    Rung("1080p", 1080, 5_000_000, 128_000),
)


@dataclass(frozen=True, slots=True)
class Target:
    """One planned output: a rung at concrete (even) dimensions."""

    rung: Rung
    width: int
    height: int


@dataclass(slots=True)
class Output:
    name: str
    path: str
    width: int
    height: int
    bitrate: int  # measured average (bits/s) of the whole file
    content_type: str = "video/mp4"


@dataclass(slots=True)
class Transcoded:
    duration_ms: int
    renditions: list[Output]
    preview: Output
    hls_dir: str
    hls_files: list[str] = field(default_factory=list)  # names inside hls_dir


def even(x: float) -> int:
    return max(2, round(x / 2) * 2)


def scaled(width: int, height: int, short_side: int) -> tuple[int, int]:
    scale = short_side / min(width, height)
    return even(width * scale), even(height * scale)


def plan_ladder(width: int, height: int) -> list[Target]:
    """The rungs for an upright source of `width`x`height`: every rung no taller (short side)
    than the source; a source smaller than the lowest rung gets one rendition at its own size."""
    short = min(width, height)
    fits = [r for r in LADDER if r.short_side <= short]
    if not fits:
        low = LADDER[0]
        own = Rung(f"{even(short)}p", short, low.video_bitrate, low.audio_bitrate)
        return [Target(own, *scaled(width, height, short))]
    return [Target(r, *scaled(width, height, r.short_side)) for r in fits]


def output_fps(stream: av.VideoStream) -> Fraction:
    """A constant rate for the output: the source's (NTSC rates kept), a variable-rate source's
    average rounded to whole frames per second, at most MAX_FPS."""
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    if not rate or rate <= 0:
        return Fraction(MAX_FPS)
    fps = Fraction(rate).limit_denominator(1001)
    if fps.denominator not in (1, 1001):
        fps = Fraction(max(1, round(float(rate))))
    return min(fps, Fraction(MAX_FPS))


def _rotation(path: str) -> int:
    with av.open(path) as container:
        for frame in container.decode(video=0):
            return int(frame.rotation) % 360
    return 0


_UPRIGHT = {90: ["transpose=cclock"], 180: ["hflip", "vflip"], 270: ["transpose=clock"]}


class _VideoOut:
    """A filter graph (upright, fixed rate, scaled) and an H.264 encoder into one MP4."""

    def __init__(
        self,
        path: str,
        vin: av.VideoStream,
        rotation: int,
        width: int,
        height: int,
        fps: Fraction,
        bitrate: int,
        crf: int,
        keyint: int,
        audio_bitrate: int | None,
        until: float | None = None,
    ) -> None:
        self.until = until
        self.container = av.open(path, "w", format="mp4", options={"movflags": "+faststart"})
        self.video = self.container.add_stream("libx264", rate=fps)
        self.video.width, self.video.height, self.video.pix_fmt = width, height, "yuv420p"
        self.video.options = {
            "preset": "veryfast",
            "crf": str(crf),
            "maxrate": str(bitrate),
            "bufsize": str(bitrate * 2),
            "profile": "high",
            # Fixed GOPs, no scene-cut keyframes: segment boundaries line up across rungs.
            "x264-params": f"keyint={keyint}:min-keyint={keyint}:scenecut=0",
        }
        self.audio = None
        if audio_bitrate is not None:
            self.audio = self.container.add_stream("aac", rate=AUDIO_RATE, layout="stereo")
            self.audio.bit_rate = audio_bitrate
        self.graph = Graph()
        chain = [self.graph.add_buffer(template=vin)]
        filters = [
            *_UPRIGHT.get(rotation, []),
            f"fps={fps}",
            f"scale={width}:{height}",
            "setsar=1",
            "format=yuv420p",
        ]
        for spec in filters:
            name, _, args = spec.partition("=")
            chain.append(self.graph.add(name, args or None))
        chain.append(self.graph.add("buffersink"))
        self.graph.link_nodes(*chain).configure()
        self.closed_input = False

    def push(self, frame: av.VideoFrame | None) -> None:
        if self.closed_input:
            return
        if (
            frame is not None
            and self.until is not None
            and frame.time is not None
            and frame.time >= self.until
        ):
            frame = None
        if frame is None:
            self.closed_input = True
        self.graph.vpush(frame)
        self._drain()

    def _drain(self) -> None:
        while True:
            try:
                out = self.graph.vpull()
            except (BlockingIOError, EOFError):
                return
            out.pict_type = av.video.frame.PictureType.NONE
            self.container.mux(self.video.encode(out))

    def push_audio(self, frame: av.AudioFrame) -> None:
        if self.audio is not None:
            self.container.mux(self.audio.encode(frame))

    def close(self) -> None:
        self.push(None)
        self.container.mux(self.video.encode(None))
        if self.audio is not None:
            self.container.mux(self.audio.encode(None))
        self.container.close()


def _bitrate(path: str) -> tuple[int, float]:
    with av.open(path) as c:
        seconds = (c.duration or 0) / av.time_base
    size = os.path.getsize(path)
    return (int(size * 8 / seconds) if seconds > 0 else 0), seconds


def _codecs(path: str, with_audio: bool) -> str:
    with av.open(path) as c:
        extradata = c.streams.video[0].codec_context.extradata or b""
    # avcC: configurationVersion, then profile, compatibility and level (RFC 6381's avc1.PPCCLL).
    video = f"avc1.{extradata[1:4].hex()}" if len(extradata) >= 4 else "avc1.640028"
    return f"{video},mp4a.40.2" if with_audio else video


def _segment(mp4_path: str, hls_dir: str, name: str, segment_seconds: int) -> None:
    """Cut an MP4's packets (copied, not re-encoded) into a VOD media playlist of TS segments."""
    playlist = os.path.join(hls_dir, f"{name}.m3u8")
    options = {
        "hls_time": str(segment_seconds),
        "hls_playlist_type": "vod",
        "hls_list_size": "0",
        "hls_segment_filename": os.path.join(hls_dir, f"{name}_%03d.ts"),
    }
    with av.open(mp4_path) as src, av.open(playlist, "w", format="hls", options=options) as out:
        streams = {
            s.index: out.add_stream_from_template(s)
            for s in (*src.streams.video, *src.streams.audio)
        }
        for packet in src.demux(*[src.streams[i] for i in streams]):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream_index]
            out.mux(packet)


def transcode(
    src_path: str,
    out_dir: str,
    *,
    segment_seconds: int = 2,
    preview_seconds: float = 3.0,
) -> Transcoded:
    """Encode the ladder, the preview and the HLS files of the video at `src_path`."""
    rotation = _rotation(src_path)
    hls_dir = os.path.join(out_dir, "hls")
    os.makedirs(hls_dir, exist_ok=True)
    with av.open(src_path) as source:
        vin = source.streams.video[0]
        vin.thread_type = "AUTO"
        ain = source.streams.audio[0] if source.streams.audio else None
        width, height = vin.codec_context.width, vin.codec_context.height
        if rotation in (90, 270):
            width, height = height, width
        fps = output_fps(vin)
        keyint = max(1, round(fps * segment_seconds))
        targets = plan_ladder(width, height)
        outs = [
            _VideoOut(
                os.path.join(out_dir, f"{t.rung.name}.mp4"),
                vin,
                rotation,
                t.width,
                t.height,
                fps,
                t.rung.video_bitrate,
                23,
                keyint,
                t.rung.audio_bitrate if ain is not None else None,
            )
            for t in targets
        ]
        pw, ph = scaled(width, height, min(PREVIEW_SHORT_SIDE, min(width, height)))
        pfps = min(fps, Fraction(PREVIEW_FPS))
        preview = _VideoOut(
            os.path.join(out_dir, "preview.mp4"),
            vin,
            rotation,
            pw,
            ph,
            pfps,
            300_000,
            30,
            max(1, round(pfps * 2)),
            None,
            until=preview_seconds,
        )
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=AUDIO_RATE)
        streams = [vin] if ain is None else [vin, ain]
        for packet in source.demux(*streams):
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):
                    for out in (*outs, preview):
                        out.push(frame)
                else:
                    for resampled in resampler.resample(frame):
                        for out in outs:
                            out.push_audio(resampled)
        if ain is not None:
            for resampled in resampler.resample(None):
                for out in outs:
                    out.push_audio(resampled)
        for out in (*outs, preview):
            out.close()

    renditions: list[Output] = []
    variants: list[MasterVariant] = []
    duration = 0.0
    for t in targets:
        path = os.path.join(out_dir, f"{t.rung.name}.mp4")
        bitrate, seconds = _bitrate(path)
        duration = max(duration, seconds)
        renditions.append(Output(t.rung.name, path, t.width, t.height, bitrate))
        _segment(path, hls_dir, t.rung.name, segment_seconds)
        with open(os.path.join(hls_dir, f"{t.rung.name}.m3u8")) as fh:
            media = parse_media_playlist(fh.read())
        peak = max(
            (
                os.path.getsize(os.path.join(hls_dir, s.uri)) * 8 / s.duration
                for s in media.segments
                if s.duration > 0
            ),
            default=bitrate,
        )
        variants.append(
            MasterVariant(
                uri=f"{t.rung.name}.m3u8",
                bandwidth=int(peak),
                average_bandwidth=bitrate,
                width=t.width,
                height=t.height,
                codecs=_codecs(path, ain is not None),
                frame_rate=float(fps),
            )
        )
    with open(os.path.join(hls_dir, "master.m3u8"), "w") as fh:
        fh.write(write_master_playlist(variants))
    preview_path = os.path.join(out_dir, "preview.mp4")
    preview_bitrate, _ = _bitrate(preview_path)
    return Transcoded(
        duration_ms=round(duration * 1000),
        renditions=renditions,
        preview=Output("preview", preview_path, pw, ph, preview_bitrate),
        hls_dir=hls_dir,
        hls_files=sorted(os.listdir(hls_dir)),
    )
