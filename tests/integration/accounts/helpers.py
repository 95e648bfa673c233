"""GraphQL helpers for the accounts tests."""

from __future__ import annotations

from dataclasses import dataclass

from bson import ObjectId

from core.ids import decode_id
from tests.support.graphql import GraphQLClient

PASSWORD = "correct horse battery"

REGISTER = """
mutation($input: RegisterInput!) {
  register(input: $input) { accessToken refreshToken expiresIn user { id username email } }
}"""
LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) { accessToken refreshToken user { id username } }
}"""
REFRESH = """
mutation($t: String!) { refreshToken(refreshToken: $t) { accessToken refreshToken user { id } } }
"""
LOGOUT = "mutation($t: String!) { logout(refreshToken: $t) }"
VIEWER = "{ viewer { id username followerCount followingCount } }"
FOLLOW = "mutation($id: ID!) { follow(userId: $id) { status user { id followerCount } } }"
UNFOLLOW = "mutation($id: ID!) { unfollow(userId: $id) { id followerCount } }"
APPROVE = "mutation($id: ID!) { approveFollowRequest(userId: $id) { id } }"
REJECT = "mutation($id: ID!) { rejectFollowRequest(userId: $id) { id } }"
BLOCK = "mutation($id: ID!) { block(userId: $id) { id isBlockedByViewer } }"
UNBLOCK = "mutation($id: ID!) { unblock(userId: $id) { id isBlockedByViewer } }"
UPDATE = """
mutation($input: UpdateProfileInput!) {
  updateProfile(input: $input) { id fullName bio website isPrivate }
}"""
USER = """
query($id: ID, $username: String) {
  user(id: $id, username: $username) {
    id username followerCount followingCount isFollowedByViewer followsViewer
    viewerHasRequested isBlockedByViewer isPrivate
  }
}"""
LIST = """
query($id: ID!, $first: Int, $after: String) {
  user(id: $id) {
    %s(first: $first, after: $after) {
      edges { cursor node { id username } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
FOLLOWERS = LIST % "followers"
FOLLOWING = LIST % "following"
REQUESTS = LIST % "followRequests"


@dataclass
class Account:
    id: str
    oid: ObjectId
    username: str
    token: str
    refresh: str


async def register(gql: GraphQLClient, username: str, **extra: str) -> Account:
    body = await gql(
        REGISTER,
        {
            "input": {
                "username": username,
                "email": extra.get("email", f"{username}@example.test"),
                "password": extra.get("password", PASSWORD),
                "fullName": extra.get("full_name", ""),
            }
        },
    )
    data = body.ok()["register"]
    return Account(
        id=data["user"]["id"],
        oid=decode_id(data["user"]["id"], "User"),
        username=data["user"]["username"],
        token=data["accessToken"],
        refresh=data["refreshToken"],
    )


async def page_all(gql: GraphQLClient, query: str, user_id: str, token: str, first: int = 2):
    names, after = [], None
    while True:
        body = await gql(query, {"id": user_id, "first": first, "after": after}, token=token)
        key = next(iter(k for k in body.ok()["user"] if k))
        conn = body.ok()["user"][key]
        names += [e["node"]["username"] for e in conn["edges"]]
        if not conn["pageInfo"]["hasNextPage"]:
            return names
        after = conn["pageInfo"]["endCursor"]
