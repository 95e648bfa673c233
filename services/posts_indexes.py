"""MongoDB indexes of the posts/media domain (imported by datastore/collections.py)."""

from pymongo import ASCENDING, DESCENDING, IndexModel

from datastore.mongo import register_indexes

# Profile grid: an author's READY posts, newest first (services/read_posts.py).
register_indexes(
    "posts", [IndexModel([("author_id", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)])]
)
# Sweeper: expired PENDING uploads; cleanup by post.
register_indexes(
    "uploads",
    [
        IndexModel([("status", ASCENDING), ("expires_at", ASCENDING)]),
        IndexModel([("post_id", ASCENDING)]),
    ],
)
# One document per place (services/post_counters.upsert_location).
register_indexes(
    "locations",
    [IndexModel([("place_key", ASCENDING)], unique=True), IndexModel([("name_key", ASCENDING)])],
)
