"""register: create an account and its first session."""

from __future__ import annotations

from datetime import UTC, datetime

from core.errors import Conflict
from core.events import Deps, emit
from datastore import accounts
from services.account_rules import check_full_name, check_password, check_username, normalize_email
from services.passwords import hash_password
from services.rate_limits import check_rate_limit
from services.refresh_tokens import AuthResult, start_session


async def _taken(deps: Deps, username_lower: str, email: str) -> None:
    if await accounts.username_taken(deps.stores, username_lower):
        raise Conflict("That username is taken", field="username")
    if await accounts.email_taken(deps.stores, email):
        raise Conflict("An account with that email exists", field="email")


async def register_user(
    deps: Deps,
    *,
    username: str,
    email: str,
    password: str,
    full_name: str = "",
    client_address: str | None = None,
) -> AuthResult:
    stores = deps.stores
    name = check_username(username)
    normalized_email = normalize_email(email)
    check_password(password, name, normalized_email)
    full = check_full_name(full_name)
    await check_rate_limit(stores, "register_address", client_address or "unknown")
    # Checked before the (slow) hash for a quick answer; the unique indexes decide races.
    await _taken(deps, name.lower(), normalized_email)
    now = datetime.now(UTC)
    password_hash = await hash_password(stores.settings, password)
    doc = accounts.new_user_document(name, normalized_email, password_hash, full, now)
    user_id = await accounts.insert_user(stores, doc)
    if user_id is None:
        await _taken(deps, name.lower(), normalized_email)
        raise Conflict("That username or email is taken")
    await accounts.remember_usernames(stores, {doc["username_lower"]: user_id})
    await emit("user.registered", deps, user_id=user_id)
    return await start_session(stores, doc)
