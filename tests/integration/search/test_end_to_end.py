"""Search driven by the real account mutations (register, follow, block, updateProfile): the
index follows the events those services emit, with no test-side indexing."""

from __future__ import annotations

from tests.integration.accounts.helpers import BLOCK, FOLLOW, PASSWORD, REGISTER, UPDATE

SEARCH = """query($q: String!) { searchUsers(query: $q) { nodes { username fullName } } }"""


async def _register(gql, username: str, full_name: str) -> tuple[str, str]:
    body = await gql(
        REGISTER,
        {
            "input": {
                "username": username,
                "email": f"{username}@example.test",
                "password": PASSWORD,
                "fullName": full_name,
            }
        },
    )
    data = body.ok()["register"]
    return data["user"]["id"], data["accessToken"]


async def _names(gql, q: str, token: str | None = None) -> list[str]:
    body = await gql(SEARCH, {"q": q}, token=token)
    return [n["username"] for n in body.ok()["searchUsers"]["nodes"]]


async def test_search_follows_account_mutations(gql):
    _, viewer = await _register(gql, "viewer", "Viewer")
    jose_id, _ = await _register(gql, "jnunez", "José Núñez")
    josh_id, josh = await _register(gql, "joshua", "Joshua")
    _, other = await _register(gql, "johanna", "Johanna")
    assert await _names(gql, "nunez") == ["jnunez"]  # registered, indexed, accents folded
    # follower counts rank: johanna follows joshua
    (await gql(FOLLOW, {"id": josh_id}, token=other)).ok()
    assert (await _names(gql, "jo"))[0] == "joshua"
    # the viewer follows jnunez: first for the viewer only
    (await gql(FOLLOW, {"id": jose_id}, token=viewer)).ok()
    assert (await _names(gql, "jo", viewer))[0] == "jnunez"
    # joshua blocks the viewer: gone for the viewer, still there for others
    viewer_id = (await gql("{ viewer { id } }", token=viewer)).ok()["viewer"]["id"]
    (await gql(BLOCK, {"id": viewer_id}, token=josh)).ok()
    assert "joshua" not in await _names(gql, "jo", viewer)
    assert "joshua" in await _names(gql, "jo", other)
    # a new full name is searchable at once, the old one no longer
    (await gql(UPDATE, {"input": {"fullName": "Zacarías"}}, token=josh)).ok()
    assert await _names(gql, "zacarias", other) == ["joshua"]
    assert await _names(gql, "joshua", other) == ["joshua"]  # still by username
