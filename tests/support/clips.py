"""Tiny test videos made with PyAV: colour bars with a marked top-left corner, a sine tone, and
the awkward shapes phones produce (display rotation, odd sizes, variable frame rate, no audio)."""

from __future__ import annotations

import io
from fractions import Fraction

import av
import numpy as np

_BARS = np.array(
    [
        (192, 192, 192),
        (192, 192, 0),
        (0, 192, 192),
        (0, 192, 0),
        (192, 0, 192),
        (192, 0, 0),
        (0, 0, 192),
    ],
    dtype=np.uint8,
)


def bars(width: int, height: int, i: int) -> np.ndarray:
    """SMPTE-like bars that drift with `i`; the top-left eighth is white, so orientation shows."""
    columns = (np.arange(width) * len(_BARS) // width + i) % len(_BARS)
    img = np.repeat(_BARS[columns][None, :, :], height, axis=0)
    img[: max(1, height // 4), : max(1, width // 4)] = 255
    return img


def clip(
    seconds: float = 1.0,
    width: int = 320,
    height: int = 240,
    fps: int = 10,
    *,
    audio: bool = True,
    rotation: int = 0,
    vfr: bool = False,
) -> bytes:
    """An H.264 MP4. `vfr` spaces frames unevenly (as a phone does in low light): timestamps in
    milliseconds, alternating one and three frame intervals. Odd sizes are encoded 4:4:4, the
    only way H.264 stores them."""
    odd = width % 2 or height % 2
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv444p" if odd else "yuv420p"
        stream.options = {"preset": "ultrafast"}
        if vfr:
            stream.codec_context.time_base = Fraction(1, 1000)
        if rotation:
            stream.set_display_rotation(rotation)
        tone = None
        if audio:
            tone = out.add_stream("aac", rate=44100)
            tone.layout = "mono"
        step = 1000 // fps
        t_ms = 0
        i = 0
        while t_ms < seconds * 1000:
            frame = av.VideoFrame.from_ndarray(bars(width, height, i), format="rgb24")
            if vfr:
                frame.pts, frame.time_base = t_ms, Fraction(1, 1000)
                t_ms += step * (1 if i % 2 == 0 else 3)
            else:
                frame.pts, frame.time_base = i, Fraction(1, fps)
                t_ms = (i + 1) * 1000 / fps
            out.mux(stream.encode(frame))
            i += 1
        out.mux(stream.encode(None))
        if tone is not None:
            samples = 1024
            for j in range(round(seconds * 44100 / samples)):
                t = (np.arange(samples) + j * samples) / 44100
                wave = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None, :]
                af = av.AudioFrame.from_ndarray(wave, format="fltp", layout="mono")
                af.sample_rate, af.pts = 44100, j * samples
                out.mux(tone.encode(af))
            out.mux(tone.encode(None))
    return buf.getvalue()
