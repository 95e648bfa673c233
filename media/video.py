"""Video: the checks and the poster frame, done in the worker before the transcode.

The upload itself is never served: `media.transcode` re-encodes it into the renditions (which
also drops container metadata such as a phone's GPS atom), in a child process
(`media.transcode_process`).
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image

from media.images import ImageSet, clean_image, render_post_image
from media.probe import MediaLimits, Probe, first_frame, open_video, probe_video


@dataclass(slots=True)
class VideoResult:
    probe: Probe
    poster: ImageSet


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
    """The probe (limits checked again: they may have tightened since createPost) and the
    poster frame's image set."""
    probe = probe_video(data, kind, limits)
    poster = render_post_image(poster_image(data))
    return VideoResult(probe=probe, poster=poster)
