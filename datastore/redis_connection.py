"""The connection class every Redis client here uses: redis-py's asyncio connection, packing
commands with hiredis.

Why: redis-py's sync connection packs with `hiredis.pack_command` when hiredis is installed,
but its asyncio connection always packs in Python, one encoder call per argument. A search's
second round trip sends about 500 arguments (scores of followed accounts, block flags of the
candidates), and packing them took a sixth of a `searchUsers` request's CPU. The output is the
same RESP bytes; any argument hiredis does not take (memoryview, or a type redis-py refuses
with DataError) goes through redis-py's own packing, so behaviour never differs.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio.connection import Connection

try:
    from hiredis import pack_command as _hiredis_pack
except ImportError:  # hiredis is a locked dependency; without it, redis-py's packing
    _hiredis_pack = None


class PackingConnection(Connection):
    def pack_command(self, *args: Any) -> list[bytes]:
        if _hiredis_pack is None:
            return super().pack_command(*args)
        # As redis-py does: a command name with a space ("CONFIG GET") is several arguments.
        head = args[0]
        if isinstance(head, str):
            command = (*head.encode().split(), *args[1:])
        elif isinstance(head, bytes) and b" " in head:
            command = (*head.split(), *args[1:])
        else:
            command = args
        try:
            return [_hiredis_pack(command)]
        except TypeError:
            return super().pack_command(*args)
