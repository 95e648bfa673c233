import asyncio

import pytest
from bson import ObjectId

from core.errors import RateLimited
from core.ids import to_global_id
from services.rate_limits import check_rate_limit
from tests.integration.accounts.helpers import FOLLOW, LOGIN, PASSWORD, register
from tests.support.factories import create_user


async def test_check_rate_limit_counts_per_identifier_and_reports_retry_after(stores):
    user, other = ObjectId(), ObjectId()
    for _ in range(3):
        await check_rate_limit(stores, "like", user, limit="3/minute")
    with pytest.raises(RateLimited) as err:
        await check_rate_limit(stores, "like", user, limit="3/minute")
    assert 1 <= err.value.retry_after <= 60
    assert err.value.extensions["retryAfter"] == err.value.retry_after
    await check_rate_limit(stores, "like", other, limit="3/minute")
    # A large COUNT: the shared Redis may hold a benchmark's million keys, and a scan at the
    # default 10 per call outlasted the one-minute window it was looking for.
    keys = [k async for k in stores.redis.scan_iter(match=stores.keys("rl") + "*", count=10_000)]
    assert keys, "windows live under the deployment's prefix"
    with pytest.raises(ValueError):
        await check_rate_limit(stores, "no_such_action", user)


async def test_concurrent_hits_never_exceed_the_limit(stores):
    user = ObjectId()
    results = await asyncio.gather(
        *(check_rate_limit(stores, "comment", user, limit="10/hour") for _ in range(30)),
        return_exceptions=True,
    )
    assert sum(r is None for r in results) == 10
    assert all(isinstance(r, RateLimited) for r in results if r is not None)


async def test_follow_limit_gives_rate_limited_with_retry_after(gql, stores, settings):
    settings.rate_limit_follow = "3/hour"
    _, token = await create_user(stores, "eager")
    targets = [(await create_user(stores, f"t{i}"))[0] for i in range(5)]
    codes = []
    for t in targets:
        body = await gql(FOLLOW, {"id": to_global_id("User", t)}, token=token)
        codes.append(body.codes[0] if body.errors else "OK")
        if body.errors:
            assert 3000 <= body.errors[0]["extensions"]["retryAfter"] <= 3600
    assert codes == ["OK", "OK", "OK", "RATE_LIMITED", "RATE_LIMITED"]
    assert await stores.db.follows.count_documents({}) == 3
    # Repeating a follow that already exists costs nothing and still answers.
    again = await gql(FOLLOW, {"id": to_global_id("User", targets[0])}, token=token)
    assert again.ok()["follow"]["status"] == "FOLLOWING"


async def test_login_is_throttled_per_account(gql, settings):
    settings.rate_limit_login_account = "3/minute"
    await register(gql, "target")
    codes = []
    for _ in range(4):
        body = await gql(LOGIN, {"input": {"login": "TARGET", "password": "wrong-guess-1"}})
        codes.append(body.codes[0])
    assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"]
    # Even the right password waits now; another account from the same address does not.
    right = await gql(LOGIN, {"input": {"login": "target", "password": PASSWORD}})
    assert right.codes == ["RATE_LIMITED"] and right.errors[0]["extensions"]["retryAfter"] >= 1
    await register(gql, "someone")
    assert (await gql(LOGIN, {"input": {"login": "someone", "password": PASSWORD}})).ok()


async def test_login_is_throttled_per_client_address(gql, settings):
    settings.rate_limit_login_address = "4/minute"
    for i in range(4):
        body = await gql(LOGIN, {"input": {"login": f"user{i}", "password": "whatever-1"}})
        assert body.codes == ["UNAUTHENTICATED"]
    body = await gql(LOGIN, {"input": {"login": "user9", "password": "whatever-1"}})
    assert body.codes == ["RATE_LIMITED"]
