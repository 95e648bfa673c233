"""Video: a metadata-free MP4 (streams copied, not transcoded) and a poster frame.

Remuxing keeps the uploaded encoding (H.264/HEVC/AV1/VP9 play in MP4 everywhere that matters)
but drops container metadata such as a phone's GPS atom, and moves the index to the front
(`faststart`) so playback starts before the download ends. Transcoding to smaller web renditions
would cost ~1x real time per rendition on this machine's 2 cores, so it is left out.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import av
from PIL import Image

from core.errors import BadInput
from media.images import ImageSet, clean_image, render_post_image
from media.probe import MediaLimits, Probe, first_frame, open_video, probe_video

_AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "alac", "ac3", "eac3"})


@dataclass(slots=True)
class VideoResult:
    probe: Probe
    video: bytes
    poster: ImageSet


def remux_mp4(data: bytes) -> bytes:
    """Copy the first video (and first playable audio) stream into a fresh MP4 with no
    container metadata."""
    source = open_video(data)
    fd, path = tempfile.mkstemp(suffix=".mp4")
    os.close(fd)
    try:
        try:
            # faststart rewrites the file at the end, which needs a seekable real file.
            with av.open(path, "w", format="mp4", options={"movflags": "+faststart"}) as out:
                vin = source.streams.video[0]
                streams = {vin.index: out.add_stream_from_template(vin)}
                audio = [a for a in source.streams.audio if a.codec_context.name in _AUDIO_CODECS]
                if audio:
                    streams[audio[0].index] = out.add_stream_from_template(audio[0])
                inputs = [source.streams[i] for i in streams]
                for packet in source.demux(inputs):
                    if packet.dts is None:
                        continue  # the demuxer's flush packets
                    packet.stream = streams[packet.stream_index]
                    out.mux(packet)
        except (av.FFmpegError, ValueError, OSError) as exc:
            raise BadInput("The video cannot be read to the end (truncated or corrupt)") from exc
        finally:
            source.close()
        with open(path, "rb") as fh:
            return fh.read()
    finally:
        os.unlink(path)


def poster_image(data: bytes) -> Image.Image:
    container = open_video(data)
    try:
        stream = container.streams.video[0]
        frame = first_frame(container, stream)
        im = frame.to_image()
        rotation = frame.rotation
    finally:
        container.close()
    if rotation:
        # The display matrix rotates counter-clockwise; PIL's rotate is counter-clockwise too.
        im = im.rotate(rotation, expand=True)
    return clean_image(im)


def process_video(data: bytes, kind: str, limits: MediaLimits) -> VideoResult:
    probe = probe_video(data, kind, limits)
    video = remux_mp4(data)
    poster = render_post_image(poster_image(data))
    return VideoResult(probe=probe, video=video, poster=poster)
