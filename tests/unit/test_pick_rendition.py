"""`pick_rendition` runs once per media URL of every page, so it is a single pass; this holds it
to the sort-based definition it replaced (the same rendition object, ties included)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from services.media_objects import pick_rendition


def by_sorting(renditions: list[dict], width: int | None, content_type: str | None) -> dict | None:
    pool = [r for r in renditions if content_type is None or r["content_type"] == content_type]
    pool = pool or list(renditions)
    if not pool:
        return None
    pool.sort(key=lambda r: r["width"])
    if width is None:
        return pool[-1]
    for r in pool:
        if r["width"] >= width:
            return r
    return pool[-1]


renditions = st.lists(
    st.fixed_dictionaries(
        {
            "width": st.sampled_from([100, 320, 320, 640, 1080]),
            "content_type": st.sampled_from(["image/webp", "image/jpeg"]),
        }
    ),
    max_size=7,
)


@given(
    renditions,
    st.none() | st.sampled_from([1, 100, 200, 320, 500, 640, 1080, 4000]),
    st.none() | st.sampled_from(["image/webp", "image/jpeg", "video/mp4"]),
)
def test_one_pass_picks_what_sorting_picks(
    items: list[dict], width: int | None, content_type: str | None
) -> None:
    assert pick_rendition(items, width, content_type) is by_sorting(items, width, content_type)
