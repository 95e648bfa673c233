"""login, refreshToken and logout."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from core.errors import BadInput, Unauthenticated
from core.events import Deps
from datastore import accounts
from services.passwords import hash_password, needs_rehash, verify_password
from services.rate_limits import check_rate_limit
from services.refresh_tokens import (
    AuthResult,
    revoke_refresh_token,
    rotate_refresh_token,
    start_session,
)

log = logging.getLogger(__name__)

_BAD_CREDENTIALS = "Incorrect username, email or password"


async def authenticate(
    deps: Deps, *, login: str, password: str, client_address: str | None = None
) -> AuthResult:
    """Log in with a username or an email. Throttled per client address and per account name
    before the password is checked, so guessing is limited whether it targets one account from
    many addresses or many accounts from one address."""
    stores = deps.stores
    key = login.strip().lower()
    if not key or not password:
        raise BadInput("Login and password are required")
    await check_rate_limit(stores, "login_address", client_address or "unknown")
    await check_rate_limit(stores, "login_account", key[:320])
    user = await accounts.find_by_login(stores, key)
    ok = await verify_password(stores.settings, user and user.get("password_hash"), password)
    if not ok or user is None:
        raise Unauthenticated(_BAD_CREDENTIALS)
    if needs_rehash(stores.settings, user["password_hash"]):
        new_hash = await hash_password(stores.settings, password)
        await accounts.set_user_fields(stores, user["_id"], {"password_hash": new_hash})
    await accounts.set_user_fields(stores, user["_id"], {"last_active_at": datetime.now(UTC)})
    return await start_session(stores, user)


async def refresh_session(deps: Deps, refresh_token: str) -> AuthResult:
    stores = deps.stores
    user_id, new_refresh = await rotate_refresh_token(stores, refresh_token)
    user = await accounts.find_user(stores, user_id)
    if user is None:
        raise Unauthenticated("Account no longer exists")
    from services.tokens import issue_access_token

    return AuthResult(
        user=user,
        access_token=issue_access_token(stores.settings, user_id),
        refresh_token=new_refresh,
        expires_in=stores.settings.access_token_ttl_seconds,
    )


async def log_out(deps: Deps, refresh_token: str) -> bool:
    await revoke_refresh_token(deps.stores, refresh_token)
    return True
