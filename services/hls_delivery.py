"""Serving HLS playlists from a private bucket.

A playlist names its media playlists and segments by relative URI, which a presigned URL cannot
carry (the signature is per object, in the query string, and a relative URI drops it). So under
presigned URLs the API serves the playlists itself, at `/media/hls/{key}?e=&s=` with its own
HMAC signature, rewriting each URI: a media playlist to another signed API URL, a segment to a
presigned GET of the bucket. Under MEDIA_PUBLIC_BASE_URL (a CDN) the stored playlists are
served as they are and none of this runs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from datetime import timedelta
from urllib.parse import urlencode

from datastore.stores import Stores

ROUTE = "/media/hls/"
LIFETIME = timedelta(hours=1)
CONTENT_TYPE = "application/vnd.apple.mpegurl"
# Only a post's own playlists: posts/{post}/{index}/hls/{name}.m3u8
_PLAYLIST_KEY = re.compile(r"^posts/[0-9a-f]{24}/\d+/hls/[A-Za-z0-9_]+\.m3u8$")


def _key(secret: str) -> bytes:
    # Its own key, derived from the app's secret: an HLS signature is never a valid token.
    return hashlib.sha256(b"photogram-hls-playlist:" + secret.encode()).digest()


def _signature(secret: str, key: str, expires: int) -> str:
    return hmac.new(_key(secret), f"{key}\n{expires}".encode(), hashlib.sha256).hexdigest()[:32]


def signed_query(secret: str, key: str, now: float | None = None) -> str:
    """`e=..&s=..` valid for at least half of LIFETIME; the same within a half-lifetime window
    (as ObjectStore.presigned_get), so players and caches see one URL per window."""
    lifetime = int(LIFETIME.total_seconds())
    window = lifetime // 2
    start = int(time.time() if now is None else now) // window * window
    expires = start + lifetime
    return urlencode({"e": expires, "s": _signature(secret, key, expires)})


def verify(secret: str, key: str, expires: str, signature: str, now: float | None = None) -> bool:
    if not _PLAYLIST_KEY.match(key) or not expires.isdigit():
        return False
    if int(expires) < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(_signature(secret, key, int(expires)), signature)


def playlist_url(stores: Stores, key: str, api_base: str, secret: str) -> str:
    """Where a player fetches the playlist stored at `key`."""
    if stores.objects.public_base_url:
        return stores.objects.presigned_get(key)
    return f"{api_base.rstrip('/')}{ROUTE}{key}?{signed_query(secret, key)}"


def rewrite(stores: Stores, key: str, text: str, secret: str) -> str:
    """The stored playlist at `key` with every URI made fetchable: sibling playlists through
    this route (relative, signed), segments as presigned bucket URLs."""
    folder = key.rsplit("/", 1)[0]
    out = []
    for line in text.splitlines():
        uri = line.strip()
        if uri and not uri.startswith("#"):
            target = f"{folder}/{uri}"
            if uri.endswith(".m3u8"):
                line = f"{uri}?{signed_query(secret, target)}"
            else:
                line = stores.objects.presigned_get(target, LIFETIME)
        out.append(line)
    return "\n".join(out) + "\n"


async def signed_playlist(stores: Stores, key: str, secret: str) -> str | None:
    """The rewritten playlist, or None when it does not exist (the post was deleted)."""
    from services.media_objects import object_size

    if await object_size(stores, key) is None:
        return None
    data = await stores.objects.get(key)
    return rewrite(stores, key, data.decode(), secret)
