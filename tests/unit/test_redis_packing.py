"""datastore/redis_connection.py packs with hiredis exactly the bytes redis-py's own asyncio
packing gives, and refuses what it refuses."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.asyncio.connection import Connection
from redis.exceptions import DataError

from datastore.redis_connection import PackingConnection

argument = st.one_of(
    st.text(),
    st.binary(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False),
    st.binary(min_size=7000, max_size=9000),  # past redis-py's chunking cutoff
)
name = st.sampled_from(["SET", "ZADD", "CONFIG GET", b"EVALSHA", b"CLIENT SETNAME", "mget"])


def _wire(conn: Connection, args: tuple) -> bytes:
    return b"".join(bytes(part) for part in conn.pack_command(*args))


@given(name, st.lists(argument, max_size=12))
def test_the_same_bytes_as_redis_py(command, args):
    packed = (command, *args)
    assert _wire(PackingConnection(), packed) == _wire(Connection(), packed)


@pytest.mark.parametrize("bad", [True, None, object(), math.nan])
def test_what_redis_py_refuses_is_refused(bad):
    reference = PackingConnection(), Connection()
    outcomes = []
    for conn in reference:
        try:
            outcomes.append(_wire(conn, ("SET", "k", bad)))
        except DataError:
            outcomes.append(DataError)
    assert outcomes[0] == outcomes[1]


def test_a_memoryview_goes_through_redis_py():
    view = memoryview(b"x" * 10)
    packed = ("SET", "k", view)
    assert _wire(PackingConnection(), packed) == _wire(Connection(), packed)
