"""The process-local side of the cost bucket's leases (gateway/throttle.py): pure bookkeeping."""

from __future__ import annotations

from gateway.throttle import LEASE_SECONDS, CostLeases


def test_a_lease_is_spent_until_it_runs_out_or_expires() -> None:
    leases = CostLeases()
    leases.keep("a", points=10, available=100, now=0.0)
    assert leases.spend("a", 4, now=1.0) == 106
    assert leases.spend("a", 4, now=2.0) == 102
    assert leases.spend("a", 4, now=3.0) is None  # 2 points left: ask the bucket
    leases.keep("b", points=10, available=100, now=0.0)
    assert leases.spend("b", 1, now=LEASE_SECONDS) is None


def test_a_full_table_forgets_the_oldest_half_instead_of_rescanning_every_request() -> None:
    leases = CostLeases(max_clients=4)
    for i, key in enumerate("abcd"):
        leases.keep(key, points=10, available=0, now=float(i))
    leases.keep("e", points=10, available=0, now=5.0)  # none expired: a and b go
    assert leases.spend("a", 1, now=5.0) is None
    assert leases.spend("b", 1, now=5.0) is None
    assert [leases.spend(k, 1, now=5.0) for k in "cde"] == [9, 9, 9]
