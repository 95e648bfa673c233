import time

import jwt
import pytest
from bson import ObjectId

from core.settings import DEV_JWT_SECRET, Settings
from services.tokens import issue_access_token
from tests.integration.accounts.helpers import LOGIN, PASSWORD, REGISTER, VIEWER, register


async def test_register_returns_tokens_and_stores_only_an_argon2id_hash(gql, stores):
    acct = await register(gql, "Alice_01", email="  Alice@Example.TEST ")
    body = await gql(VIEWER, token=acct.token)
    assert body.ok()["viewer"]["username"] == "Alice_01"
    doc = await stores.db.users.find_one({"_id": acct.oid})
    assert doc["email"] == "alice@example.test"
    assert doc["username_lower"] == "alice_01"
    assert doc["password_hash"].startswith("$argon2id$")
    assert PASSWORD not in str(doc)
    # Other people never see an email; the schema has no password field at all.
    other = await register(gql, "bob")
    seen = await gql(
        "query($id: ID!) { user(id: $id) { email } }", {"id": acct.id}, token=other.token
    )
    assert seen.ok()["user"]["email"] is None
    bad = await gql("{ viewer { passwordHash } }", token=acct.token)
    assert bad.codes == ["GRAPHQL_VALIDATION_FAILED"]


# Loops rather than parametrize: each test case would build a fresh app and database.
async def test_invalid_usernames_are_refused_and_create_nothing(gql, stores):
    for username in [
        "",
        "a" * 31,
        ".alice",
        "alice.",
        "al..ice",
        "al ice",
        "al-ice",
        "alïce",
        "al@ice",
    ]:
        body = await gql(
            REGISTER,
            {"input": {"username": username, "email": "x@example.test", "password": PASSWORD}},
        )
        assert body.codes == ["BAD_USER_INPUT"], username
        assert body.errors[0]["extensions"]["field"] == "username"
    assert await stores.db.users.count_documents({}) == 0


async def test_valid_edge_usernames_are_accepted(gql):
    for username in ["a", "b" * 30, "a.b_c", "_x_", "A.1"]:
        acct = await register(gql, username)
        assert acct.username == username


async def test_usernames_are_unique_case_insensitively(gql, stores):
    await register(gql, "Carol")
    body = await gql(
        REGISTER,
        {"input": {"username": "cAROL", "email": "other@example.test", "password": PASSWORD}},
    )
    assert body.codes == ["CONFLICT"]
    assert body.errors[0]["extensions"]["field"] == "username"
    assert await stores.db.users.count_documents({}) == 1


async def test_duplicate_email_in_different_case_is_a_conflict_and_changes_nothing(gql, stores):
    await register(gql, "dave", email="dave@example.test")
    body = await gql(
        REGISTER,
        {"input": {"username": "dave2", "email": "DAVE@Example.Test", "password": PASSWORD}},
    )
    assert body.codes == ["CONFLICT"]
    assert body.errors[0]["extensions"]["field"] == "email"
    assert await stores.db.users.count_documents({}) == 1


async def test_weak_passwords_are_refused_with_a_reason(gql, stores):
    cases = [
        ("short1", "SHORT"),
        ("erinerin", "PERSONAL"),
        ("ErInErIn", "PERSONAL"),
        ("erin@example.test", "PERSONAL"),
        ("password123", "COMMON"),
        ("aaaaaaaaaa", "COMMON"),
        ("x" * 300, "LONG"),
    ]
    for password, reason in cases:
        body = await gql(
            REGISTER,
            {"input": {"username": "erinerin", "email": "erin@example.test", "password": password}},
        )
        assert body.codes == ["BAD_USER_INPUT"], password
        assert body.errors[0]["extensions"]["reason"] == reason
    assert await stores.db.users.count_documents({}) == 0


async def test_invalid_emails_are_refused(gql, stores):
    emails = ["", "no-at-sign", "a@b", "a b@example.test", "a@@example.test", "x" * 250 + "@e.io"]
    for email in emails:
        body = await gql(
            REGISTER, {"input": {"username": "frank", "email": email, "password": PASSWORD}}
        )
        assert body.codes == ["BAD_USER_INPUT"], email
        assert body.errors[0]["extensions"]["field"] == "email"
    assert await stores.db.users.count_documents({}) == 0


async def test_concurrent_registrations_of_one_name_create_one_account(gql, stores):
    import asyncio

    results = await asyncio.gather(
        *(
            gql(
                REGISTER,
                {
                    "input": {
                        "username": "Race",
                        "email": f"r{i}@example.test",
                        "password": PASSWORD,
                    }
                },
            )
            for i in range(8)
        )
    )
    assert sorted(r.codes[0] if r.errors else "OK" for r in results).count("OK") == 1
    assert all(r.codes == ["CONFLICT"] for r in results if r.errors)
    assert await stores.db.users.count_documents({"username_lower": "race"}) == 1


async def test_login_by_username_or_email_in_any_case(gql):
    acct = await register(gql, "Grace", email="grace@example.test")
    for login in ("grace", "GRACE", "Grace@Example.test"):
        body = await gql(LOGIN, {"input": {"login": login, "password": PASSWORD}})
        data = body.ok()["login"]
        assert data["user"]["id"] == acct.id
        viewer = await gql(VIEWER, token=data["accessToken"])
        assert viewer.ok()["viewer"]["id"] == acct.id


async def test_wrong_password_and_unknown_user_are_the_same_unauthenticated(gql):
    await register(gql, "heidi")
    wrong = await gql(LOGIN, {"input": {"login": "heidi", "password": "wrong password!"}})
    unknown = await gql(LOGIN, {"input": {"login": "nobody", "password": PASSWORD}})
    assert wrong.codes == unknown.codes == ["UNAUTHENTICATED"]
    assert wrong.errors[0]["message"] == unknown.errors[0]["message"]


async def test_malformed_tokens_are_unauthenticated(gql):
    for header in [
        "Bearer not.a.jwt",
        "Bearer ",
        "Basic abc",
        "Bearer a b",
        "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.",
    ]:
        body = await gql(VIEWER, headers={"Authorization": header})
        assert body.codes == ["UNAUTHENTICATED"], header


async def test_expired_forged_and_unpinned_tokens_are_unauthenticated(gql, settings):
    acct = await register(gql, "ivan")
    expired = issue_access_token(settings, acct.oid, now=time.time() - 3600)
    forged = jwt.encode(
        {"sub": str(acct.oid), "iat": int(time.time()), "exp": int(time.time()) + 60},
        "some-other-secret",
        algorithm="HS256",
    )
    no_exp = jwt.encode(
        {"sub": str(acct.oid), "iat": int(time.time())},
        settings.jwt_secret.get_secret_value(),
        algorithm="HS256",
    )
    hs512 = jwt.encode(
        {"sub": str(acct.oid), "iat": int(time.time()), "exp": int(time.time()) + 60},
        settings.jwt_secret.get_secret_value(),
        algorithm="HS512",
    )
    for token in (expired, forged, no_exp, hs512):
        body = await gql(VIEWER, token=token)
        assert body.codes == ["UNAUTHENTICATED"], token
    assert "expired" in (await gql(VIEWER, token=expired)).errors[0]["message"]


async def test_token_of_a_deleted_account_is_unauthenticated(gql, stores):
    acct = await register(gql, "judy")
    await stores.db.users.delete_one({"_id": acct.oid})
    body = await gql(VIEWER, token=acct.token)
    assert body.codes == ["UNAUTHENTICATED"]


def test_prod_refuses_a_missing_or_default_secret():
    with pytest.raises(ValueError):
        Settings(env="prod", jwt_secret=DEV_JWT_SECRET)
    with pytest.raises(ValueError):
        Settings(env="prod", jwt_secret="")
    assert Settings(env="prod", jwt_secret="x" * 40).env == "prod"


async def test_anonymous_viewer_is_null(gql):
    assert (await gql(VIEWER)).ok() == {"viewer": None}


def test_a_verified_token_is_refused_once_it_expires(settings, monkeypatch):
    # Verified tokens are cached by their text; expiry must still be checked on every use.
    from core.errors import Unauthenticated
    from services import tokens

    user = ObjectId()
    token = issue_access_token(settings, user)
    assert tokens.decode_access_token(settings, token) == user
    later = time.time() + settings.access_token_ttl_seconds + 1
    monkeypatch.setattr(tokens.time, "time", lambda: later)
    with pytest.raises(Unauthenticated, match="expired"):
        tokens.decode_access_token(settings, token)
