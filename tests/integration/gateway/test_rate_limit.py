"""The per-client leaky bucket of cost points (Shopify's model), in Redis."""

from __future__ import annotations

import asyncio

import pytest

from tests.integration.gateway.support import nested_followers
from tests.support.factories import create_user

COST_4 = nested_followers(1, first=3)  # 1 + 3


async def test_the_bucket_refuses_with_retry_after_then_restores(make_client, stores):
    gw = await make_client(cost_bucket_capacity=10, cost_bucket_restore_rate=1)
    first = await gw(COST_4)
    first.ok()
    assert first["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] in (6, 7)
    (await gw(COST_4)).ok()
    refused = await gw(COST_4)
    assert refused.codes == ["RATE_LIMITED"]
    ext = refused.errors[0]["extensions"]
    assert ext["retryAfter"] >= 1 and ext["cost"] == 4
    assert refused.data is None
    status = refused["extensions"]["cost"]["throttleStatus"]
    assert status["maximumAvailable"] == 10 and status["restoreRate"] == 1
    assert status["currentlyAvailable"] < 4

    # Cheaper operations still fit; the budget belongs to the client, not the process.
    assert (await gw("{ serverTime }")).ok()

    # The bucket key expires once the bucket would be full again (about 9 s here), so look
    # for it right after this client's requests, before slower set-up below.
    # (The exact key, not a SCAN: a SCAN walks every key in the Redis, e.g. a benchmark's.)
    app_stores = gw.app.state.stores
    assert await app_stores.redis.exists(app_stores.keys("cost", "addr:127.0.0.1"))

    # Another client (an authenticated user) has its own bucket.
    user_id, token = await create_user(gw.app.state.stores, "bucketuser")
    assert (await gw(COST_4, token=token)).ok()
    assert await app_stores.redis.exists(app_stores.keys("cost", f"user:{user_id}"))


async def test_concurrent_requests_never_overdraw_the_bucket(make_client):
    gw = await make_client(cost_bucket_capacity=12, cost_bucket_restore_rate=1)
    bodies = await asyncio.gather(*(gw(COST_4) for _ in range(10)))
    admitted = [b for b in bodies if not b.errors]
    refused = [b for b in bodies if b.codes == ["RATE_LIMITED"]]
    # 12 points hold three queries of 4; within the second the test takes at most one more
    # point drains, which is not enough for a fourth.
    assert len(admitted) == 3 and len(refused) == 7


async def test_clients_are_told_apart_by_address(make_client):
    small = {"cost_bucket_capacity": 4, "cost_bucket_restore_rate": 1}
    a = await make_client(client_host="10.0.0.1", **small)
    b = await make_client(client_host="10.0.0.2", **small)
    assert (await a(COST_4)).ok()
    assert (await a(COST_4)).codes == ["RATE_LIMITED"]
    assert (await b(COST_4)).ok()


async def test_capacity_zero_turns_the_bucket_off(make_client):
    gw = await make_client(cost_bucket_capacity=0)
    body = await gw(COST_4)
    body.ok()
    assert "throttleStatus" not in body["extensions"]["cost"]


async def test_a_process_spends_a_lease_locally_and_near_the_limit_only_the_cost(stores):
    from gateway.throttle import CostLeases, charge

    key, leases = stores.keys("cost", "lease-test"), CostLeases()

    async def level() -> float:
        return float(await stores.redis.hget(key, "level"))

    first = await charge(stores.redis, key, 4, capacity=10_000, restore_rate=1, leases=leases)
    # 16 requests' worth is taken from the bucket at once and reported as still available.
    assert first.allowed and first.available == 10_000 - 4
    assert await level() == pytest.approx(64, abs=1)
    for _ in range(15):
        assert (
            await charge(stores.redis, key, 4, capacity=10_000, restore_rate=1, leases=leases)
        ).allowed
    assert await level() == pytest.approx(64, abs=1)  # no round trip spent more
    await charge(stores.redis, key, 4, capacity=10_000, restore_rate=1, leases=leases)
    assert await level() == pytest.approx(128, abs=1)

    # A bucket without room for a lease grants exactly the cost, so refusals stay exact.
    tight = stores.keys("cost", "lease-tight")
    others = CostLeases()
    await charge(stores.redis, tight, 90, capacity=100, restore_rate=1, leases=others)
    assert float(await stores.redis.hget(tight, "level")) == pytest.approx(90, abs=1)
    refused = await charge(stores.redis, tight, 20, capacity=100, restore_rate=1, leases=others)
    assert not refused.allowed and refused.retry_after >= 1
