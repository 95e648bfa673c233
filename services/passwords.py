"""Password hashing with argon2id (argon2-cffi). Hashes carry their parameters, so changing the
cost settings only affects new hashes; `needs_rehash` lets login upgrade old ones."""

from __future__ import annotations

import asyncio
import contextlib
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from core.settings import Settings

# RFC 9106 section 4, second recommended option (64 MiB); tests use the library minimum.
_PROFILE = {"time_cost": 3, "memory_cost": 64 * 1024, "parallelism": 4}
_TEST_PROFILE = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}

# A hash to verify against when the account does not exist, so a login for an unknown name
# takes as long as one with a wrong password (no user enumeration by timing).
_DUMMY_PASSWORD = "not-a-real-password-0"


@lru_cache(maxsize=8)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(
        time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
    )


def hasher_for(settings: Settings) -> PasswordHasher:
    base = _TEST_PROFILE if settings.env == "test" else _PROFILE
    return _hasher(
        settings.argon2_time_cost or base["time_cost"],
        settings.argon2_memory_kib or base["memory_cost"],
        settings.argon2_parallelism or base["parallelism"],
    )


async def hash_password(settings: Settings, password: str) -> str:
    # argon2 is deliberately slow CPU work: keep it off the event loop.
    return await asyncio.to_thread(hasher_for(settings).hash, password)


async def verify_password(settings: Settings, password_hash: str | None, password: str) -> bool:
    hasher = hasher_for(settings)
    if not password_hash or not password_hash.startswith("$argon2"):
        await asyncio.to_thread(_verify_dummy, hasher)
        return False
    try:
        return await asyncio.to_thread(hasher.verify, password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@lru_cache(maxsize=8)
def _dummy_hash(hasher: PasswordHasher) -> str:
    return hasher.hash(_DUMMY_PASSWORD)


def _verify_dummy(hasher: PasswordHasher) -> None:
    with contextlib.suppress(VerificationError):
        hasher.verify(_dummy_hash(hasher), _DUMMY_PASSWORD + "x")


def needs_rehash(settings: Settings, password_hash: str) -> bool:
    try:
        return hasher_for(settings).check_needs_rehash(password_hash)
    except InvalidHashError:
        return True
