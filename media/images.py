"""Image renditions: orientation applied, colours converted to sRGB, every byte of metadata
(EXIF with GPS, XMP, ICC, comments) left behind, WebP plus JPEG for clients that ask for it."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass, field

import blurhash
from PIL import Image, ImageCms, ImageOps

from media.probe import MediaLimits, load_pixels, open_image

POST_WIDTHS = (320, 640, 1080)
THUMBNAIL_SIZE = 320
AVATAR_SIZES = (150, 320, 640)
WEBP_QUALITY = 80
JPEG_QUALITY = 85
_ROTATES = {5, 6, 7, 8}  # EXIF orientations that swap width and height


@dataclass(slots=True)
class Rendition:
    name: str
    data: bytes
    content_type: str
    width: int
    height: int


@dataclass(slots=True)
class ImageSet:
    width: int
    height: int
    blurhash: str
    renditions: list[Rendition] = field(default_factory=list)
    thumbnail: Rendition | None = None


def oriented_size(im: Image.Image, size: tuple[int, int]) -> tuple[int, int]:
    try:
        orientation = im.getexif().get(0x0112)
    except Exception:  # unreadable EXIF is ignored, as a viewer would
        orientation = None
    return (size[1], size[0]) if orientation in _ROTATES else size


def decode_image(data: bytes, kind: str, limits: MediaLimits, *, max_side: int) -> Image.Image:
    """Decode, apply EXIF orientation, convert to sRGB RGB/RGBA, and drop all metadata.

    `max_side` lets JPEG decode at a reduced DCT scale when the largest rendition needs fewer
    pixels: a 12 MP photo decodes at 1/2 scale for 1080-wide renditions, several times faster.
    """
    im = open_image(data, kind, limits)
    if kind == "jpeg":
        im.draft("RGB", (max_side, max_side))
    load_pixels(im, kind)
    return clean_image(im)


def clean_image(im: Image.Image) -> Image.Image:
    """An oriented, sRGB, metadata-free copy of a loaded image."""
    im = ImageOps.exif_transpose(im)
    icc = im.info.get("icc_profile")
    has_alpha = im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info)
    mode = "RGBA" if has_alpha else "RGB"
    converted = False
    if icc and im.mode in ("RGB", "RGBA", "CMYK", "L"):
        try:
            im = ImageCms.profileToProfile(
                im,
                ImageCms.ImageCmsProfile(io.BytesIO(icc)),
                ImageCms.createProfile("sRGB"),
                outputMode=mode,
            )
            converted = True
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: keep the pixels as they are, still without the profile
    if not converted and im.mode != mode:
        im = im.convert(mode)
    out = im.copy() if im.info else im
    out.info = {}
    return out


def _encode(im: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    im.info = {}
    if fmt == "WEBP":
        im.save(buf, "WEBP", quality=WEBP_QUALITY, method=4, exif=b"", xmp=b"", icc_profile=b"")
    else:
        if im.mode != "RGB":
            # JPEG has no alpha: flatten on white, like a browser showing the image on a page.
            bg = Image.new("RGB", im.size, (255, 255, 255))
            bg.paste(im, mask=im.getchannel("A") if "A" in im.mode else None)
            im = bg
        im.save(buf, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=False)
    return buf.getvalue()


def _placeholder(im: Image.Image) -> str:
    small = im.convert("RGB")
    small.thumbnail((32, 32), Image.Resampling.BILINEAR)
    with warnings.catch_warnings():
        # blurhash-python reads pixels with Image.getdata, deprecated in Pillow 13.
        warnings.simplefilter("ignore", DeprecationWarning)
        return blurhash.encode(small, 4, 3)


def _resize(im: Image.Image, size: tuple[int, int]) -> Image.Image:
    if im.size == size:
        return im
    return im.resize(size, Image.Resampling.LANCZOS, reducing_gap=3.0)


def render_post_image(
    im: Image.Image, *, original_size: tuple[int, int] | None = None, jpeg: bool = True
) -> ImageSet:
    """Renditions of a cleaned image: each width in POST_WIDTHS no wider than the image (at least
    one), WebP and optionally JPEG, plus a square thumbnail and a blurhash."""
    width, height = im.size
    # Largest first, each from the one before: every step is a small downscale, so Lanczos
    # from the previous rendition looks the same and costs a fraction of starting over.
    targets = sorted({min(w, width) for w in POST_WIDTHS}, reverse=True)
    source = im
    renditions: list[Rendition] = []
    for target in targets:
        size = (target, max(1, round(height * target / width)))
        source = _resize(source, size)
        encoded = [Rendition(f"w{target}.webp", _encode(source, "WEBP"), "image/webp", *size)]
        if jpeg:
            encoded.append(
                Rendition(f"w{target}.jpg", _encode(source, "JPEG"), "image/jpeg", *size)
            )
        renditions[:0] = encoded
    base = _resize(im, _fit_within(im.size, max(THUMBNAIL_SIZE * 2, 64)))
    side = min(THUMBNAIL_SIZE, width, height)
    thumb = ImageOps.fit(base, (side, side), Image.Resampling.LANCZOS)
    return ImageSet(
        width=(original_size or im.size)[0],
        height=(original_size or im.size)[1],
        blurhash=_placeholder(base),
        renditions=renditions,
        thumbnail=Rendition("thumb.webp", _encode(thumb, "WEBP"), "image/webp", side, side),
    )


def _fit_within(size: tuple[int, int], short_side: int) -> tuple[int, int]:
    """`size` scaled down so its shorter side is `short_side` (never up)."""
    w, h = size
    scale = short_side / min(w, h)
    if scale >= 1:
        return size
    return (max(1, round(w * scale)), max(1, round(h * scale)))


def render_avatar(im: Image.Image) -> ImageSet:
    """Square renditions (center crop) for a profile picture."""
    side = min(im.size)
    square = (
        ImageOps.fit(im, (side, side), Image.Resampling.LANCZOS) if im.width != im.height else im
    )
    out = ImageSet(width=side, height=side, blurhash=_placeholder(square))
    for target in sorted({min(s, side) for s in AVATAR_SIZES}):
        resized = _resize(square, (target, target))
        out.renditions.append(
            Rendition(f"s{target}.webp", _encode(resized, "WEBP"), "image/webp", target, target)
        )
        out.renditions.append(
            Rendition(f"s{target}.jpg", _encode(resized, "JPEG"), "image/jpeg", target, target)
        )
    out.thumbnail = out.renditions[0]
    return out


def process_photo(data: bytes, kind: str, limits: MediaLimits) -> ImageSet:
    im = decode_image(data, kind, limits, max_side=max(POST_WIDTHS))
    probe_size = open_image(data, kind, limits)
    original = oriented_size(probe_size, probe_size.size)
    return render_post_image(im, original_size=original)


def process_avatar(data: bytes, kind: str, limits: MediaLimits) -> ImageSet:
    return render_avatar(decode_image(data, kind, limits, max_side=max(AVATAR_SIZES)))
