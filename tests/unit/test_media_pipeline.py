"""The pure pipeline (media/): type from bytes, guards, orientation, metadata, renditions."""

import io

import pytest
from PIL import Image

from core.errors import BadInput
from media.images import process_avatar, process_photo
from media.probe import MediaLimits, probe
from media.video import process_video
from tests.support import samples

LIMITS = MediaLimits(max_bytes=5 * 1024 * 1024, max_pixels=4_000_000, max_video_seconds=3.0)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (samples.photo(fmt="JPEG"), "jpeg"),
        (samples.photo(fmt="PNG"), "png"),
        (samples.photo(fmt="WEBP"), "webp"),
        (samples.heic(), "heic"),
        (samples.mp4(), "mp4"),
    ],
)
def test_type_comes_from_the_bytes(data, kind):
    assert probe(data, LIMITS).kind == kind


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"just some text, renamed to photo.jpg\n", "not a supported image"),
        (samples.photo(width=900, height=700)[:2500], "truncated"),
        (samples.png_bomb(), "decompression bomb"),
        (samples.photo(width=2100, height=2000), "limit is 4000000 pixels"),
        (samples.gif(), "Unsupported file type: GIF"),
        (samples.mp4(seconds=4.0, fps=5), "limit is 3 s"),
        (samples.mp4()[:1500], "not a valid MP4"),
    ],
    ids=["empty", "text", "truncated-jpeg", "bomb", "pixels", "gif", "long-video", "cut-mp4"],
)
def test_bad_files_are_refused(data, message):
    with pytest.raises(BadInput) as exc:
        probe(data, LIMITS)
    assert message in exc.value.message


def test_over_size_limit_is_refused():
    with pytest.raises(BadInput, match="limit is 100 bytes"):
        probe(samples.photo(), MediaLimits(100, 10_000_000, 10))


def test_orientation_applied_and_all_metadata_stripped():
    data = samples.photo(width=800, height=600, orientation=6, gps=True)
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)  # the source has GPS
    result = process_photo(data, "jpeg", LIMITS)
    assert (result.width, result.height) == (600, 800)
    widths = sorted({r.width for r in result.renditions})
    assert widths == [320, 600]  # no upscaling past the original width
    assert {r.content_type for r in result.renditions} == {"image/webp", "image/jpeg"}
    for r in [*result.renditions, result.thumbnail]:
        im = Image.open(io.BytesIO(r.data))
        assert im.size == (r.width, r.height)
        assert not im.getexif(), r.name
        assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(im.info), r.name
        assert b"TestCam" not in r.data and b"Exif" not in r.data
    # Stored top-left (red) is shown top-right after a 90° clockwise turn: upright.
    im = Image.open(io.BytesIO(result.renditions[-1].data)).convert("RGB")
    assert im.width < im.height
    right = im.getpixel((im.width - 5, 5))
    left = im.getpixel((5, 5))
    assert right[0] > 200 and right[2] < 60, right
    assert left[2] > 150, left
    assert result.thumbnail.width == result.thumbnail.height == 320
    assert len(result.blurhash) >= 6


def test_large_photo_gets_every_width():
    result = process_photo(samples.photo(width=2000, height=1500), "jpeg", LIMITS)
    webp = [(r.width, r.height) for r in result.renditions if r.content_type == "image/webp"]
    assert webp == [(320, 240), (640, 480), (1080, 810)]
    assert (result.width, result.height) == (2000, 1500)


def test_heic_png_webp_render():
    for data, kind in [
        (samples.heic(), "heic"),
        (samples.photo(fmt="PNG"), "png"),
        (samples.photo(fmt="WEBP", gps=True), "webp"),
    ]:
        result = process_photo(data, kind, LIMITS)
        assert result.renditions and result.blurhash
        for r in result.renditions:
            assert not Image.open(io.BytesIO(r.data)).getexif()


def test_avatar_renditions_are_square():
    result = process_avatar(samples.photo(width=900, height=500), "jpeg", LIMITS)
    assert {(r.width, r.height) for r in result.renditions} == {(150, 150), (320, 320), (500, 500)}


def test_video_probe_and_poster():
    # The renditions themselves (and their lack of GPS atoms): tests/unit/test_video_transcode.py
    data = samples.mp4(seconds=1.0, gps_metadata=True)
    result = process_video(data, "mp4", LIMITS)
    assert result.probe.codec == "h264"
    assert (result.probe.width, result.probe.height) == (320, 240)
    assert result.probe.duration_seconds == pytest.approx(1.0, abs=0.15)
    assert {r.width for r in result.poster.renditions} == {320}
    assert result.poster.thumbnail.width == 240


def test_video_display_rotation_is_applied_to_size_and_poster():
    # Rotated 90° counter-clockwise for display: stored top-left ends bottom-left.
    result = process_video(samples.mp4(rotation=90), "mp4", LIMITS)
    assert (result.probe.width, result.probe.height) == (240, 320)
    poster = Image.open(io.BytesIO(result.poster.renditions[0].data)).convert("RGB")
    assert poster.size == (240, 320)
    assert min(poster.getpixel((5, 315))) > 200
    assert min(poster.getpixel((235, 5))) < 200
