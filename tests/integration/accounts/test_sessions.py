import asyncio

from bson import ObjectId

from tests.integration.accounts.helpers import LOGIN, LOGOUT, PASSWORD, REFRESH, VIEWER, register


async def test_refresh_rotates_and_the_new_pair_works(gql, stores):
    acct = await register(gql, "rotor")
    body = await gql(REFRESH, {"t": acct.refresh})
    data = body.ok()["refreshToken"]
    assert data["refreshToken"] != acct.refresh and data["user"]["id"] == acct.id
    assert (await gql(VIEWER, token=data["accessToken"])).ok()["viewer"]["id"] == acct.id
    second = (await gql(REFRESH, {"t": data["refreshToken"]})).ok()["refreshToken"]
    assert second["refreshToken"] not in (acct.refresh, data["refreshToken"])
    # Only hashes are stored.
    async for doc in stores.db.refresh_tokens.find({}):
        assert doc["token_hash"] not in (acct.refresh, data["refreshToken"])
        assert len(doc["token_hash"]) == 64


async def test_reusing_a_spent_refresh_token_revokes_the_whole_family(gql, stores):
    acct = await register(gql, "victim")
    other_login = (await gql(LOGIN, {"input": {"login": "victim", "password": PASSWORD}})).ok()
    stolen = acct.refresh
    fresh = (await gql(REFRESH, {"t": stolen})).ok()["refreshToken"]["refreshToken"]
    # The thief replays the spent token: refused, and the family is revoked...
    replay = await gql(REFRESH, {"t": stolen})
    assert replay.codes == ["UNAUTHENTICATED"]
    assert "already used" in replay.errors[0]["message"]
    # ...so the legitimate holder's newer token is dead too.
    assert (await gql(REFRESH, {"t": fresh})).codes == ["UNAUTHENTICATED"]
    # A separate login is a separate family and keeps working.
    other = (await gql(REFRESH, {"t": other_login["login"]["refreshToken"]})).ok()
    assert other["refreshToken"]["user"]["id"] == acct.id
    family = (
        await stores.db.refresh_tokens.find_one({"user_id": acct.oid, "used_at": {"$ne": None}})
    )["family_id"]
    async for doc in stores.db.refresh_tokens.find({"family_id": family}):
        assert doc["revoked_at"] is not None


async def test_concurrent_refreshes_with_one_token_let_one_win(gql):
    acct = await register(gql, "racer")
    results = await asyncio.gather(*(gql(REFRESH, {"t": acct.refresh}) for _ in range(6)))
    winners = [r for r in results if not r.errors]
    assert len(winners) <= 1
    assert all(r.codes == ["UNAUTHENTICATED"] for r in results if r.errors)
    # Reuse was detected, so even the winner's token is revoked.
    for w in winners:
        t = w.ok()["refreshToken"]["refreshToken"]
        assert (await gql(REFRESH, {"t": t})).codes == ["UNAUTHENTICATED"]


async def test_logout_revokes_and_is_idempotent(gql):
    acct = await register(gql, "leaver")
    assert (await gql(LOGOUT, {"t": acct.refresh})).ok() == {"logout": True}
    assert (await gql(LOGOUT, {"t": acct.refresh})).ok() == {"logout": True}
    assert (await gql(REFRESH, {"t": acct.refresh})).codes == ["UNAUTHENTICATED"]


async def test_malformed_unknown_and_expired_refresh_tokens(gql, stores):
    acct = await register(gql, "expiry")
    for bad in ("", "garbage", f"{ObjectId()}.secret", acct.refresh + "x", "zz.zz"):
        assert (await gql(REFRESH, {"t": bad})).codes == ["UNAUTHENTICATED"], bad
        assert (await gql(LOGOUT, {"t": bad})).codes == ["UNAUTHENTICATED"], bad
    token_id = ObjectId(acct.refresh.split(".")[0])
    from datetime import UTC, datetime, timedelta

    await stores.db.refresh_tokens.update_one(
        {"_id": token_id}, {"$set": {"expires_at": datetime.now(UTC) - timedelta(seconds=1)}}
    )
    body = await gql(REFRESH, {"t": acct.refresh})
    assert body.codes == ["UNAUTHENTICATED"] and "expired" in body.errors[0]["message"]
