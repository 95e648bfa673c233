"""Real encodes (media/transcode.py) of tiny clips made here: every rendition decodes upright at
its planned size and the source's duration (within a frame), the HLS playlists parse and their
segments play back to the same frames, the preview is short, silent and small."""

from __future__ import annotations

import asyncio
import io
import os
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from core.errors import BadInput
from media.hls import parse_master_playlist, parse_media_playlist
from media.transcode import LADDER, Transcoded, plan_ladder, transcode
from media.transcode_process import sweep_work_dirs, transcode_in_child
from tests.support import clips, samples


@dataclass(frozen=True)
class Case:
    name: str
    data: bytes
    fps: int
    seconds: float
    # (width, height) of each rendition, lowest first
    sizes: list[tuple[int, int]]
    audio: bool
    # where the white corner is on the upright picture
    corner: str = "top-left"


CASES = [
    # Two ladder rungs; colour bars with a 440 Hz tone.
    Case("bars-720p", clips.clip(1.0, 1280, 720, 30), 30, 1.0, [(640, 360), (1280, 720)], True),
    # A phone's portrait video: landscape frames, a 90-degree display matrix.
    Case(
        "rotated",
        clips.clip(1.0, 640, 360, 10, rotation=90),
        10,
        1.0,
        [(360, 640)],
        True,
        corner="bottom-left",
    ),
    Case("9x16-silent", clips.clip(1.0, 360, 640, 10, audio=False), 10, 1.0, [(360, 640)], False),
    Case("1x1", clips.clip(1.0, 400, 400, 10), 10, 1.0, [(360, 360)], True),
    # Below the lowest rung: its own (even) size, never upscaled.
    Case("odd-size", clips.clip(1.0, 321, 241, 10), 10, 1.0, [(320, 240)], True),
    # Frames 33 and 100 ms apart alternately: out at a constant 15 fps.
    Case("vfr", clips.clip(1.0, 640, 360, 30, vfr=True), 15, 1.0, [(640, 360)], True),
    # A location atom in the source must not survive.
    Case("gps", samples.mp4(seconds=1.0, gps_metadata=True), 10, 1.0, [(320, 240)], True),
]


@pytest.fixture(scope="module")
def encoded(tmp_path_factory) -> dict[str, Transcoded]:
    out: dict[str, Transcoded] = {}
    for case in CASES:
        folder = tmp_path_factory.mktemp(case.name)
        src = folder / "source.mp4"
        src.write_bytes(case.data)
        out[case.name] = transcode(str(src), str(folder))
    return out


def _frames(path: str) -> list[av.VideoFrame]:
    with av.open(path) as c:
        return list(c.decode(video=0))


def _corner(img: np.ndarray) -> str:
    h, w = img.shape[:2]
    spots = {
        "top-left": img[h // 16, w // 16],
        "top-right": img[h // 16, -w // 16],
        "bottom-left": img[-h // 16, w // 16],
        "bottom-right": img[-h // 16, -w // 16],
    }
    white = [name for name, px in spots.items() if px.min() > 220]
    assert len(white) == 1, white
    return white[0]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_renditions_decode_at_size_and_duration(case: Case, encoded):
    result = encoded[case.name]
    frame = 1 / case.fps
    assert [(r.width, r.height) for r in result.renditions] == case.sizes
    assert result.duration_ms / 1000 == pytest.approx(case.seconds, abs=frame)
    for r in result.renditions:
        data = Path(r.path).read_bytes()
        assert b"loci" not in data and data[4:8] == b"ftyp"
        # +faststart: the index (moov) precedes the media data (mdat).
        assert data.index(b"moov") < data.index(b"mdat")
        with av.open(r.path) as c:
            assert [s.codec_context.name for s in c.streams.video] == ["h264"]
            assert [s.codec_context.name for s in c.streams.audio] == (
                ["aac"] if case.audio else []
            )
            assert "location" not in c.metadata
            assert c.duration / 1e6 == pytest.approx(case.seconds, abs=frame)
        frames = _frames(r.path)
        assert len(frames) == pytest.approx(case.seconds * case.fps, abs=1)
        assert {(f.width, f.height) for f in frames} == {(r.width, r.height)}
        assert {f.rotation for f in frames} == {0}  # upright pixels, no display matrix
        assert _corner(frames[0].to_ndarray(format="rgb24")) == case.corner
        assert r.bitrate > 0


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hls_playlists_play_the_same_frames(case: Case, encoded):
    result = encoded[case.name]
    hls = Path(result.hls_dir)
    variants = parse_master_playlist((hls / "master.m3u8").read_text())
    assert [v.resolution for v in variants] == case.sizes
    assert sorted(os.listdir(hls)) == result.hls_files
    for variant, rendition in zip(variants, result.renditions, strict=True):
        assert variant.bandwidth >= int(variant.attributes["AVERAGE-BANDWIDTH"]) > 0
        assert variant.attributes["CODECS"].startswith("avc1.")
        media = parse_media_playlist((hls / variant.uri).read_text())
        assert media.endlist and media.playlist_type == "VOD"
        assert media.duration == pytest.approx(case.seconds, abs=1 / case.fps)
        decoded = 0
        for segment in media.segments:
            with av.open(str(hls / segment.uri)) as c:
                decoded += sum(1 for _ in c.decode(video=0))
        assert decoded == len(_frames(rendition.path))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_preview_is_short_silent_and_small(case: Case, encoded):
    preview = encoded[case.name].preview
    with av.open(preview.path) as c:
        assert not c.streams.audio
        assert c.duration / 1e6 <= 3.0 + 1 / case.fps
    assert min(preview.width, preview.height) <= 240
    assert preview.width % 2 == 0 and preview.height % 2 == 0
    assert _corner(_frames(preview.path)[0].to_ndarray(format="rgb24")) == case.corner


def test_preview_stops_after_three_seconds(tmp_path):
    src = tmp_path / "long.mp4"
    src.write_bytes(clips.clip(4.0, 160, 120, 5, audio=False))
    result = transcode(str(src), str(tmp_path))
    with av.open(result.preview.path) as c:
        assert c.duration / 1e6 == pytest.approx(3.0, abs=0.2)
    assert result.duration_ms == pytest.approx(4000, abs=200)


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((3840, 2160), [(640, 360), (1280, 720), (1920, 1080)]),
        ((1080, 1920), [(360, 640), (720, 1280), (1080, 1920)]),
        ((1000, 1000), [(360, 360), (720, 720)]),
        ((1280, 720), [(640, 360), (1280, 720)]),
        ((200, 111), [(200, 112)]),
    ],
)
def test_ladder_never_upscales(size, expected):
    planned = plan_ladder(*size)
    assert [(t.width, t.height) for t in planned] == expected
    assert all(t.width % 2 == 0 and t.height % 2 == 0 for t in planned)
    assert [t.rung.video_bitrate for t in planned] == sorted(t.rung.video_bitrate for t in planned)
    assert len(LADDER) == 3


def test_child_process_transcodes_and_refuses_a_corrupt_file(tmp_path):
    good = tmp_path / "good.mp4"
    good.write_bytes(clips.clip(1.0, 320, 240, 10))
    result = asyncio.run(transcode_in_child(str(good), str(tmp_path / "out"), nice=5))
    assert [(r.width, r.height) for r in result.renditions] == [(320, 240)]
    assert Path(result.renditions[0].path).is_file()
    # Readable headers, garbage after them: the child reports bad input, not a crash.
    bad = tmp_path / "bad.mp4"
    data = bytearray(clips.clip(1.0, 320, 240, 10))
    data[len(data) // 3 :] = os.urandom(len(data) - len(data) // 3)
    bad.write_bytes(bytes(data))
    (tmp_path / "out2").mkdir()
    try:
        asyncio.run(transcode_in_child(str(bad), str(tmp_path / "out2")))
    except BadInput as exc:
        assert "cannot be transcoded" in exc.message
    else:
        # libavcodec conceals some corruption; then the output must still be whole.
        with av.open(io.BytesIO((tmp_path / "out2" / "240p.mp4").read_bytes())) as c:
            assert c.streams.video


def test_scratch_folders_of_dead_processes_are_swept(tmp_path):
    dead = tmp_path / "999999999-abc"  # above any pid_max: no such process
    mine = tmp_path / f"{os.getpid()}-def"
    for folder in (dead, mine):
        folder.mkdir()
        (folder / "source").write_bytes(b"x")
    assert sweep_work_dirs(tmp_path) == [dead.name]
    assert mine.is_dir() and not dead.exists()
