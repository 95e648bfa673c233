from core.ids import to_global_id
from tests.support.factories import create_user


async def test_node_fetches_a_user_by_global_id(gql, stores):
    uid, _ = await create_user(stores, "nodeuser")
    body = await gql(
        "query($id: ID!) { node(id: $id) { id ... on User { username } } }",
        {"id": to_global_id("User", uid)},
    )
    assert body.ok()["node"] == {"id": to_global_id("User", uid), "username": "nodeuser"}


async def test_node_with_a_malformed_id_is_bad_input(gql):
    body = await gql('{ node(id: "%%%not-base64") { id } }')
    assert body.codes == ["BAD_USER_INPUT"]
