"""The backend seam: `settings.mongo_flavor` alone picks the implementation, and the MongoDB one
is plain MongoDB (no document locks, no pending deltas, no SQLITE_BUSY retries)."""

import dataclasses

import pytest

import datastore.backend.ferretdb as ferretdb_module
from core.events import Deps, emit
from core.settings import LOCAL_MONGODB_URL, Settings
from datastore.backend.ferretdb import FerretBackend
from datastore.backend.mongodb import MongoBackend
from datastore.notifications import notification_id
from datastore.stores import Stores, open_stores
from services.add_comment import add_comment
from services.delete_comment import delete_comment
from services.interaction_queries import mark_notifications_read, notifications_page
from services.like_post import like_post
from services.notify import group_key, notify, withdraw
from services.share_post import share_post
from services.unlike_post import unlike_post
from tests.integration.interactions.helpers import block
from tests.support.factories import create_ready_post, create_user


@pytest.mark.parametrize(
    ("flavor", "url", "expected"),
    [
        ("mongodb", LOCAL_MONGODB_URL, MongoBackend),
        ("ferretdb", "mongodb://db.example:27017/", FerretBackend),
        (None, LOCAL_MONGODB_URL, FerretBackend),
        (None, "mongodb://db.example:27017/", MongoBackend),
    ],
)
async def test_the_flavor_alone_chooses_the_backend(flavor, url, expected):
    stores = open_stores(Settings(mongo_flavor=flavor, mongodb_url=url))
    try:
        assert type(stores.backend) is expected
        # Built again with the stores, so a copy with other settings gets its own.
        other = "ferretdb" if expected is MongoBackend else "mongodb"
        copy = dataclasses.replace(
            stores, settings=stores.settings.model_copy(update={"mongo_flavor": other})
        )
        assert type(copy.backend) is not expected
    finally:
        await stores.close()


def _mongodb_flavored(stores: Stores) -> Stores:
    return dataclasses.replace(
        stores, settings=stores.settings.model_copy(update={"mongo_flavor": "mongodb"})
    )


async def test_the_mongodb_backend_takes_no_locks_and_keeps_nothing_pending(
    app, stores, monkeypatch
):
    """Every interaction write path, on the mongodb flavor, with every FerretDB adaptation made
    to fail: a Redis lock, the document lock, retry_busy."""

    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("a FerretDB adaptation was used on the mongodb flavor")

    monkeypatch.setattr(stores.redis, "lock", refuse)
    monkeypatch.setattr(ferretdb_module, "hold_document", refuse)
    monkeypatch.setattr(ferretdb_module, "retry_busy", refuse)
    mongo = _mongodb_flavored(stores)
    assert isinstance(mongo.backend, MongoBackend)
    deps = Deps(mongo, app.state.queue)

    # The factories write through the repositories, so through the mongodb backend too.
    author, _ = await create_user(mongo, "author")
    fan, _ = await create_user(mongo, "fan")
    other, _ = await create_user(mongo, "other")
    post_id = await create_ready_post(mongo, author)

    liked = await like_post(deps, fan, post_id)
    assert liked["like_count"] == 1
    assert (await unlike_post(deps, fan, post_id))["like_count"] == 0
    await like_post(deps, other, post_id)
    comment = await add_comment(deps, fan, post_id, "first")
    reply = await add_comment(deps, other, post_id, "a reply", reply_to_id=comment["_id"])
    await share_post(deps, fan, post_id, [other])
    page = await notifications_page(mongo, author, 10, None)
    assert {n["type"] for n in page.items} == {"LIKE", "COMMENT"}
    assert await mark_notifications_read(mongo, author, None) == len(page.items)
    assert await notify(mongo, recipient_id=author, type_="FOLLOW_REQUEST", actor_id=fan)
    await withdraw(mongo, recipient_id=author, type_="FOLLOW_REQUEST", actor_id=fan)
    assert await delete_comment(deps, fan, comment["_id"])
    await block(mongo, author, other)
    await emit("user.blocked", deps, blocker_id=author, blocked_id=other)

    post = await stores.db.posts.find_one({"_id": post_id})
    assert (post["like_count"], post["comment_count"], post["share_count"]) == (1, 0, 1)
    assert "counter_flush" not in post
    assert await stores.db.comments.count_documents({"_id": reply["_id"]}) == 0
    # Nothing queued or locked in Redis: pending deltas and actor queues are FerretDB's.
    like_group = notification_id(author, group_key("LIKE", actor_id=fan, post_id=post_id))
    ferretdb_keys = [
        stores.keys("pending", "posts", post_id),
        stores.keys("pending", "posts", post_id, "inflight"),
        stores.keys("pending", "posts", post_id, "latest"),
        stores.keys("pending", "notif", like_group),
        stores.keys("lock", "posts", post_id),
    ]
    assert await stores.redis.exists(*ferretdb_keys) == 0
