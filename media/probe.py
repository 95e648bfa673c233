"""What an upload is, decided from its bytes (never its name or declared content type), and the
checks that refuse bad or dangerous files before anything is stored."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from typing import Literal

import av
import pillow_heif
from PIL import Image, UnidentifiedImageError

from core.errors import BadInput

pillow_heif.register_heif_opener()

Kind = Literal["jpeg", "png", "webp", "heic", "mp4", "mov"]
IMAGE_KINDS: dict[str, str] = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP", "heic": "HEIF"}
VIDEO_KINDS = ("mp4", "mov")
# Codecs a browser or phone can play once remuxed into MP4 without transcoding.
VIDEO_CODECS = frozenset({"h264", "hevc", "av1", "vp9"})
ACCEPTED_CONTENT_TYPES = frozenset(
    {
        "image/jpeg",
        "image/png",
        "image/webp",
        "image/heic",
        "image/heif",
        "video/mp4",
        "video/quicktime",
    }
)

_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"}
_MOV_ATOMS = {b"moov", b"wide", b"mdat", b"free", b"skip"}
_KNOWN_UNSUPPORTED = (
    (b"GIF87a", "GIF"),
    (b"GIF89a", "GIF"),
    (b"BM", "BMP"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"%PDF", "PDF"),
    (b"\x1aE\xdf\xa3", "WebM/Matroska"),
)


@dataclass(frozen=True, slots=True)
class MediaLimits:
    max_bytes: int
    max_pixels: int
    max_video_seconds: float
    # A video's own limits (transcoding cost grows with pixels and bits, not only seconds).
    max_video_pixels: int = 3840 * 2160
    max_video_bitrate: int = 80_000_000

    @classmethod
    def from_settings(cls, settings: object) -> MediaLimits:
        return cls(
            max_bytes=settings.max_upload_bytes,  # type: ignore[attr-defined]
            max_pixels=settings.max_image_pixels,  # type: ignore[attr-defined]
            max_video_seconds=settings.max_video_seconds,  # type: ignore[attr-defined]
            max_video_pixels=settings.max_video_pixels,  # type: ignore[attr-defined]
            max_video_bitrate=settings.max_video_bitrate,  # type: ignore[attr-defined]
        )


@dataclass(frozen=True, slots=True)
class Probe:
    kind: Kind
    type: Literal["PHOTO", "VIDEO"]
    width: int
    height: int
    duration_seconds: float | None = None
    codec: str | None = None


def sniff(data: bytes) -> Kind:
    """The container format from magic bytes. Raises BadInput for empty, unknown and known but
    unsupported formats."""
    if not data:
        raise BadInput("The file is empty")
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in _HEIF_BRANDS:
            return "heic"
        if brand == b"qt  ":
            return "mov"
        if brand in (b"avif", b"avis"):
            raise BadInput("Unsupported file type: AVIF")
        return "mp4"
    if data[4:8] in _MOV_ATOMS:
        return "mov"
    for magic, name in _KNOWN_UNSUPPORTED:
        if data.startswith(magic):
            raise BadInput(f"Unsupported file type: {name}")
    raise BadInput("The file is not a supported image or video (JPEG, PNG, WebP, HEIC, MP4, MOV)")


def open_image(data: bytes, kind: str, limits: MediaLimits) -> Image.Image:
    """Open (header only) an image of a sniffed kind, refusing absurd dimensions before any pixel
    is decoded."""
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard: a warning between its two thresholds, an error above.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im = Image.open(io.BytesIO(data), formats=[IMAGE_KINDS[kind]])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise BadInput("The image is a decompression bomb (absurd dimensions)") from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise BadInput(f"The file is not a valid {kind.upper()} image") from exc
    width, height = im.size
    if width < 1 or height < 1:
        raise BadInput("The image has no pixels")
    if width * height > limits.max_pixels:
        raise BadInput(
            f"The image has {width}x{height} pixels; the limit is {limits.max_pixels} pixels",
            maxPixels=limits.max_pixels,
        )
    return im


def load_pixels(im: Image.Image, kind: str) -> None:
    """Decode the pixel data, turning a truncated or corrupt file into BadInput."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            im.load()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombWarning) as exc:
        raise BadInput(f"The {kind.upper()} image is truncated or corrupt") from exc


def probe_image(data: bytes, kind: str, limits: MediaLimits) -> Probe:
    im = open_image(data, kind, limits)
    width, height = im.size
    if kind == "jpeg":
        # Decoding at 1/8 scale still reads every entropy-coded byte, so truncation shows up,
        # at a fraction of the cost of a full decode.
        im.draft("RGB", (max(1, width // 8), max(1, height // 8)))
    load_pixels(im, kind)
    from media.images import oriented_size

    width, height = oriented_size(im, (width, height))
    return Probe(kind=kind, type="PHOTO", width=width, height=height)  # type: ignore[arg-type]


def open_video(data: bytes) -> av.container.InputContainer:
    try:
        return av.open(io.BytesIO(data), mode="r", format="mp4")
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise BadInput("The file is not a valid MP4/MOV video") from exc


def probe_video(data: bytes, kind: str, limits: MediaLimits) -> Probe:
    container = open_video(data)
    try:
        if not container.streams.video:
            raise BadInput("The video has no video track")
        stream = container.streams.video[0]
        duration = _duration_seconds(container, stream)
        if duration is None:
            raise BadInput("The video's duration cannot be read")
        if duration > limits.max_video_seconds:
            raise BadInput(
                f"The video is {duration:.1f} s long; the limit is {limits.max_video_seconds:g} s",
                maxSeconds=limits.max_video_seconds,
            )
        codec = stream.codec_context.name
        if codec not in VIDEO_CODECS:
            raise BadInput(f"Unsupported video codec: {codec}")
        width, height = stream.codec_context.width, stream.codec_context.height
        if width < 1 or height < 1:
            raise BadInput(f"Unsupported video dimensions: {width}x{height}")
        if width * height > min(limits.max_pixels, limits.max_video_pixels):
            raise BadInput(
                f"The video is {width}x{height}; the limit is "
                f"{min(limits.max_pixels, limits.max_video_pixels)} pixels a frame",
                maxPixels=min(limits.max_pixels, limits.max_video_pixels),
            )
        # The container's own figure, else the whole file over its duration.
        bitrate = container.bit_rate or (len(data) * 8 / duration if duration > 0 else 0)
        if bitrate > limits.max_video_bitrate:
            raise BadInput(
                f"The video's bitrate is {bitrate / 1e6:.1f} Mbit/s; the limit is "
                f"{limits.max_video_bitrate / 1e6:g} Mbit/s",
                maxBitrate=limits.max_video_bitrate,
            )
        frame = first_frame(container, stream)
        if abs(frame.rotation) in (90, 270):
            width, height = height, width
        return Probe(
            kind=kind,  # type: ignore[arg-type]
            type="VIDEO",
            width=width,
            height=height,
            duration_seconds=round(duration, 3),
            codec=codec,
        )
    finally:
        container.close()


def first_frame(container: av.container.InputContainer, stream: av.VideoStream) -> av.VideoFrame:
    try:
        for frame in container.decode(stream):
            return frame
    except (av.FFmpegError, ValueError, OSError) as exc:
        raise BadInput("The video cannot be decoded") from exc
    raise BadInput("The video has no frames")


def _duration_seconds(
    container: av.container.InputContainer, stream: av.VideoStream
) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def probe(data: bytes, limits: MediaLimits) -> Probe:
    """Everything createPost checks synchronously: type from the bytes, size, dimensions,
    duration, and that the content decodes. Raises BadInput with a reason."""
    if len(data) > limits.max_bytes:
        raise BadInput(
            f"The file is {len(data)} bytes; the limit is {limits.max_bytes} bytes",
            maxBytes=limits.max_bytes,
        )
    kind = sniff(data)
    if kind in VIDEO_KINDS:
        return probe_video(data, kind, limits)
    return probe_image(data, kind, limits)
