"""Media files built in the test process (Pillow, pillow-heif, PyAV): no binary fixtures."""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction

import av
import numpy as np
import pillow_heif
from PIL import Image

pillow_heif.register_heif_opener()

GPS_IFD = 0x8825
ORIENTATION = 0x0112


def photo(
    width: int = 800,
    height: int = 600,
    fmt: str = "JPEG",
    *,
    orientation: int | None = None,
    gps: bool = False,
    color: tuple[int, int, int] = (30, 120, 200),
    quality: int = 85,
) -> bytes:
    """A photo with a red block in its stored top-left corner (to check orientation)."""
    im = Image.new("RGB", (width, height), color)
    im.paste((255, 0, 0), (0, 0, width // 4, height // 4))
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    if orientation:
        exif[ORIENTATION] = orientation
    if gps:
        exif[GPS_IFD] = {1: "N", 2: (52.0, 22.0, 12.0), 3: "E", 4: (4.0, 53.0, 28.0)}
    buf = io.BytesIO()
    kwargs: dict = {"exif": exif.tobytes()}
    if fmt == "JPEG":
        kwargs["quality"] = quality
    im.save(buf, fmt, **kwargs)
    return buf.getvalue()


def noisy_jpeg(width: int, height: int) -> bytes:
    """A photo-like (incompressible) JPEG, for realistic timings."""
    rng = np.random.default_rng(7)
    small = rng.integers(0, 255, (height // 16, width // 16, 3), dtype=np.uint8)
    im = Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC)
    noise = rng.integers(0, 40, (height, width, 3), dtype=np.uint8)
    im = Image.fromarray(np.clip(np.asarray(im) + noise, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def png_bomb(width: int = 30_000, height: int = 30_000) -> bytes:
    """A small PNG whose header claims a huge 1-bit image: a decompression bomb."""
    raw_row = b"\x00" + b"\x00" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    body = b"".join(comp.compress(raw_row) for _ in range(height)) + comp.flush()

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def gif() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (40, 40), (1, 2, 3)).save(buf, "GIF")
    return buf.getvalue()


def heic(width: int = 640, height: int = 480) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (10, 200, 30)).save(buf, "HEIF", quality=60)
    return buf.getvalue()


def mp4(
    seconds: float = 1.0,
    width: int = 320,
    height: int = 240,
    fps: int = 10,
    *,
    codec: str = "libx264",
    gps_metadata: bool = False,
    preset: str = "ultrafast",
    noise: bool = False,
    rotation: int = 0,
) -> bytes:
    """An H.264 MP4 of moving colour bars (plus a silent AAC track). `noise` adds grain so the
    bitrate is like a phone camera's rather than a few kB/s."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as out:
        if gps_metadata:
            out.metadata["location"] = "+52.3700+004.8900/"
        stream = out.add_stream(codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if rotation:
            # A phone's portrait video: landscape frames plus a display matrix.
            stream.set_display_rotation(rotation)
        if codec == "libx264":
            stream.options = {"preset": preset, **({"crf": "23"} if noise else {})}
        audio = out.add_stream("aac", rate=44100)
        audio.layout = "mono"
        frames = round(seconds * fps)
        base = np.zeros((height, width, 3), dtype=np.uint8)
        rng = np.random.default_rng(3)
        for i in range(frames):
            img = base.copy()
            img[:, : width // 2] = (200, (i * 20) % 255, 40)
            img[:, width // 2 :] = (20, 60, (i * 10) % 255)
            img[: height // 4, : width // 4] = (230, 230, 230)  # marks the stored top-left
            if noise:
                img += rng.integers(0, 14, img.shape, dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
        samples = 1024
        for j in range(round(seconds * 44100 / samples)):
            af = av.AudioFrame.from_ndarray(
                np.zeros((1, samples), dtype=np.float32), format="fltp", layout="mono"
            )
            af.sample_rate = 44100
            af.pts = j * samples
            out.mux(audio.encode(af))
        out.mux(audio.encode(None))
    return buf.getvalue()
