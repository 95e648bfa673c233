"""Signed media URLs: stable within a window (cacheable by browsers and CDNs), still valid."""

import time
from datetime import timedelta

import httpx

from datastore.stores import Stores

HOUR = timedelta(hours=1)


async def test_a_signed_url_is_stable_within_its_window_and_fetches_the_object(stores: Stores):
    await stores.objects.put("probe/a.txt", b"hello", "text/plain")
    t0 = 1_800_000_000  # the start of a half-hour window
    first = stores.objects.presigned_get("probe/a.txt", HOUR, now=t0 + 5)
    assert stores.objects.presigned_get("probe/a.txt", HOUR, now=t0 + 1_700) == first
    later = stores.objects.presigned_get("probe/a.txt", HOUR, now=t0 + 1_800)
    assert later != first
    assert stores.objects.presigned_get("probe/b.txt", HOUR, now=t0 + 5) != first
    # Signed now, the URL must fetch the object from storage.
    current = stores.objects.presigned_get("probe/a.txt", HOUR)
    async with httpx.AsyncClient() as client:
        resp = await client.get(current)
    assert resp.status_code == 200 and resp.content == b"hello"
    assert "X-Amz-Expires=3600" in current


async def test_an_expired_window_url_is_refused_by_storage(stores: Stores):
    await stores.objects.put("probe/c.txt", b"x", "text/plain")
    # Signed in a window three hours ago: storage must refuse it.
    stale = stores.objects.presigned_get("probe/c.txt", HOUR, now=time.time() - 3 * 3600)
    async with httpx.AsyncClient() as client:
        resp = await client.get(stale)
    assert resp.status_code == 403
