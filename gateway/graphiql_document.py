"""The document GraphiQL opens with: the README's "Try it" steps against the demo world
(`make demo`), in place of Strawberry's welcome comment."""

from __future__ import annotations

# The demo login (demo/world.py; tests/unit/test_graphiql_document.py keeps the two equal).
DEMO_LOGIN = "maya"
DEMO_PASSWORD = "try-photogram-demo"

DEFAULT_DOCUMENT = f"""# Photogram: the demo world (`make demo`, then `make run`).
# Each operation runs on its own: press ▶ and pick it by name.
#
# 1. Run "Login"; copy the accessToken from the response.
# 2. In the Headers tab below, paste (with your token):
#      {{"Authorization": "Bearer <accessToken>"}}
#    Then everything runs as {DEMO_LOGIN}, subscriptions too:
#    GraphiQL sends the header in the WebSocket's
#    connection_init. A token lasts 15 minutes; run Login
#    again for a new one.
# 3. Run "Feed": the newest posts of the accounts {DEMO_LOGIN}
#    follows (nova, the demo's celebrity, is pulled at read
#    time instead of fanned out).
# 4. Put a post id in the Variables tab as
#      {{"postId": "<id>"}}
#    and run "Like".
# 5. Run "Notifications": it waits for {DEMO_LOGIN}'s next one.
#    To make one, open a new tab (+), log in there as nova
#    (same password), put nova's token in that tab's Headers
#    and like one of {DEMO_LOGIN}'s posts.

mutation Login {{
  login(input: {{login: "{DEMO_LOGIN}", password: "{DEMO_PASSWORD}"}}) {{
    accessToken
    expiresIn
    user {{ username followingCount }}
  }}
}}

query Feed {{
  feed(first: 10) {{
    nodes {{
      id
      author {{ username }}
      caption
      location {{ name }}
      media {{ type width height url(width: 320) }}
      likeCount
      commentCount
      viewerHasLiked
    }}
    pageInfo {{ hasNextPage endCursor }}
  }}
}}

mutation Like($postId: ID!) {{
  likePost(postId: $postId) {{ id likeCount viewerHasLiked }}
}}

subscription Notifications {{
  notificationAdded {{
    type
    actors {{ username }}
    post {{ id caption }}
  }}
}}
"""
