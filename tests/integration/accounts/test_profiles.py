from datetime import UTC, datetime, timedelta

from datastore.activity import flush_activity
from datastore.doc_cache import user_cache
from services import touch_activity
from tests.integration.accounts.helpers import UPDATE, VIEWER, register

PROFILE = "{ viewer { fullName bio website isPrivate } }"


async def test_update_profile_changes_only_given_fields(gql):
    acct = await register(gql, "profiled", full_name="Pro Filed")
    body = await gql(
        UPDATE,
        {"input": {"bio": "  hello  ", "website": "example.org/me"}},
        token=acct.token,
    )
    assert body.ok()["updateProfile"] == {
        "id": acct.id,
        "fullName": "Pro Filed",
        "bio": "hello",
        "website": "https://example.org/me",
        "isPrivate": False,
    }
    await gql(UPDATE, {"input": {"fullName": "New  Name", "website": ""}}, token=acct.token)
    assert (await gql(PROFILE, token=acct.token)).ok()["viewer"] == {
        "fullName": "New Name",
        "bio": "hello",
        "website": None,
        "isPrivate": False,
    }


async def test_bad_profile_input_changes_nothing(gql, stores):
    acct = await register(gql, "strict")
    (await gql(VIEWER, token=acct.token)).ok()  # records activity, so nothing else changes
    before = await stores.db.users.find_one({"_id": acct.oid})
    changes = [
        {"bio": "x" * 151},
        {"fullName": "n" * 65},
        {"website": "javascript:alert(1)"},
        {"website": "ftp://example.org"},
        {"website": "https://exa mple.org"},
        {"bio": "fine", "website": "not a url"},
    ]
    for change in changes:
        body = await gql(UPDATE, {"input": change}, token=acct.token)
        assert body.codes == ["BAD_USER_INPUT"], change
    assert await stores.db.users.find_one({"_id": acct.oid}) == before


async def test_update_profile_needs_a_viewer(gql):
    assert (await gql(UPDATE, {"input": {"bio": "x"}})).codes == ["UNAUTHENTICATED"]


async def test_last_active_at_is_touched_at_most_once_per_window(gql, stores):
    """Requests record activity in Redis only; the worker's flush writes `last_active_at`, once
    per recorded window: a second request within the window records nothing more to flush."""
    acct = await register(gql, "active")
    old = (datetime.now(UTC) - timedelta(days=40)).replace(microsecond=0)
    await stores.db.users.update_one({"_id": acct.oid}, {"$set": {"last_active_at": old}})
    await flush_activity(stores)  # whatever registering recorded
    await stores.db.users.update_one({"_id": acct.oid}, {"$set": {"last_active_at": old}})
    touch_activity._RECORDED.pop(acct.oid, None)  # a fresh window for this process
    (await gql(VIEWER, token=acct.token)).ok()
    # Nothing on the request path wrote MongoDB...
    assert (await stores.db.users.find_one({"_id": acct.oid}))["last_active_at"] == old
    # ...the flush does, and leaves the user's cached document where the feed reads it.
    await user_cache(stores).get_many([acct.oid])
    assert await flush_activity(stores) == 1
    assert await stores.redis_raw.exists(user_cache(stores).key(acct.oid))
    first = (await stores.db.users.find_one({"_id": acct.oid}))["last_active_at"]
    assert first > old + timedelta(days=39)
    await stores.db.users.update_one({"_id": acct.oid}, {"$set": {"last_active_at": old}})
    (await gql("{ serverTime }", token=acct.token)).ok()
    # Within the window: nothing recorded, so the next flush writes nothing.
    assert await flush_activity(stores) == 0
    assert (await stores.db.users.find_one({"_id": acct.oid}))["last_active_at"] == old


async def test_unexpected_errors_are_masked_with_a_request_id_in_the_log(gql, stores):
    import io
    import json
    import logging

    from core.logging import JsonFormatter

    acct = await register(gql, "broken")
    # A document missing a required field makes the resolver fail in a way no rule expects.
    await stores.db.users.update_one({"_id": acct.oid}, {"$unset": {"created_at": ""}})
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("graphql.errors")
    logger.addHandler(handler)
    try:
        body = await gql("query($id: ID!) { user(id: $id) { createdAt } }", {"id": acct.id})
    finally:
        logger.removeHandler(handler)
    assert body.codes == ["INTERNAL"]
    error = body.errors[0]
    assert error["message"] == "Internal server error" and "KeyError" not in str(body)
    request_id = error["extensions"]["requestId"]
    logged = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert any(
        entry.get("request_id") == request_id and "KeyError" in entry.get("exc", "")
        for entry in logged
    )


async def test_a_profile_by_username_is_found_without_querying_usernames_in_mongodb(
    settings, gql, stores
):
    # Registration records the username -> id map, so `user(username:)` never runs MongoDB's
    # username query (a collection scan on FerretDB); a lost map is refilled from MongoDB.
    from datastore.accounts import user_ids_by_username, username_map_key
    from datastore.instrumentation import MongoCommandCounter
    from datastore.stores import open_stores

    alice = await register(gql, "Alice_Z")
    assert await stores.redis.hget(username_map_key(stores), "alice_z") == str(alice.oid)
    query = '{ user(username: "ALICE_z") { id username } }'
    counter = MongoCommandCounter()
    counted = open_stores(settings, mongo_listeners=[counter])
    try:
        assert await user_ids_by_username(counted, ["alice_z"]) == {"alice_z": alice.oid}
        assert counter.total == 0
        await stores.redis.delete(username_map_key(stores))
        assert await user_ids_by_username(counted, ["alice_z", "nobody"]) == {"alice_z": alice.oid}
        assert counter.total == 1
    finally:
        await counted.close()
    assert await stores.redis.hget(username_map_key(stores), "alice_z") == str(alice.oid)
    assert (await gql(query)).ok()["user"] == {"id": alice.id, "username": "Alice_Z"}
