"""The demo's media, drawn here with Pillow and PyAV: nothing is downloaded, and one seed always
draws the same pictures."""

from __future__ import annotations

import colorsys
import io
import random
from fractions import Fraction

import av
import numpy as np
from PIL import Image, ImageDraw, ImageFont

PHOTO_SIZE = (640, 640)
AVATAR_SIZE = 320


def _rgb(hue: float, saturation: float, value: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(hue % 1.0, saturation, value)
    return round(r * 255), round(g * 255), round(b * 255)


def _gradient(size: tuple[int, int], top: tuple[int, ...], bottom: tuple[int, ...]) -> Image.Image:
    width, height = size
    t = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    rows = (1 - t) * np.array(top, np.float32) + t * np.array(bottom, np.float32)
    return Image.fromarray(np.broadcast_to(rows, (height, width, 3)).astype(np.uint8), "RGB")


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def avatar_png(initials: str, hue: float) -> bytes:
    """A diagonal-ish gradient square with the user's initials."""
    im = _gradient((AVATAR_SIZE, AVATAR_SIZE), _rgb(hue, 0.55, 0.95), _rgb(hue + 0.12, 0.8, 0.55))
    draw = ImageDraw.Draw(im)
    draw.text(
        (AVATAR_SIZE / 2, AVATAR_SIZE / 2),
        initials.upper(),
        fill=(255, 255, 255),
        font=_font(AVATAR_SIZE // 3),
        anchor="mm",
    )
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def photo_jpeg(seed: int) -> bytes:
    """A landscape: sky gradient, a sun, layered hills; each seed a different scene."""
    rng = random.Random(seed)
    width, height = PHOTO_SIZE
    hue = rng.random()
    im = _gradient(PHOTO_SIZE, _rgb(hue, 0.5, 0.98), _rgb(hue + 0.08, 0.35, 0.75))
    draw = ImageDraw.Draw(im)
    sx, sy, r = rng.randint(80, width - 80), rng.randint(60, height // 2), rng.randint(30, 70)
    draw.ellipse((sx - r, sy - r, sx + r, sy + r), fill=_rgb(0.1 + rng.random() * 0.05, 0.7, 1))
    for layer in range(3):
        base = height * (0.55 + 0.14 * layer)
        points = [(0, height)]
        for x in range(0, width + 80, 80):
            points.append((x, base - rng.randint(0, 90)))
        points.append((width, height))
        draw.polygon(points, fill=_rgb(hue + 0.3 + 0.05 * layer, 0.5, 0.6 - 0.15 * layer))
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=85)
    return buf.getvalue()


def clip_mp4(seconds: float = 2.0, size: int = 320, fps: int = 12) -> bytes:
    """An H.264 MP4: a ball crossing a gradient, for the demo's one video post."""
    buf = io.BytesIO()
    background = np.asarray(_gradient((size, size), (30, 40, 120), (200, 90, 150)))
    yy, xx = np.mgrid[0:size, 0:size]
    with av.open(buf, "w", format="mp4") as out:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size, size, "yuv420p"
        stream.options = {"preset": "ultrafast"}
        frames = round(seconds * fps)
        for i in range(frames):
            cx = size * (0.15 + 0.7 * i / max(1, frames - 1))
            ball = (xx - cx) ** 2 + (yy - size / 2) ** 2 < (size / 8) ** 2
            img = background.copy()
            img[ball] = (250, 220, 80)
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, fps)
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return buf.getvalue()
