"""The document GraphiQL opens with: the README's "Try it" steps against the demo world
(`make demo`), in place of Strawberry's welcome comment."""

from __future__ import annotations

# The demo login (demo/world.py; tests/unit/test_graphiql_document.py keeps the two equal).
DEMO_LOGIN = "maya"
DEMO_PASSWORD = "try-photogram-demo"

DEFAULT_DOCUMENT = f"""# Photogram: a first look at the demo world (`make demo`, then `make run`).
#
# Each operation below runs on its own: press the ▶ button and pick it by name.
#
# 1. Run "Login". Copy the accessToken from the response.
# 2. Open the Headers tab (below this editor) and paste, with your token:
#        {{"Authorization": "Bearer <accessToken>"}}
#    Every request after that runs as {DEMO_LOGIN}, subscriptions too (GraphiQL sends the
#    header in the WebSocket's connection_init). The token lasts 15 minutes; run Login
#    again for a new one.
# 3. Run "Feed": the newest posts of the accounts {DEMO_LOGIN} follows (nova, the demo's
#    celebrity, is pulled at read time rather than fanned out).
# 4. Copy a post id into the Variables tab as {{"postId": "<id>"}} and run "Like".
# 5. Run "Notifications": it waits for {DEMO_LOGIN}'s next notification. To make one, open
#    a new tab (+), log in there as nova (same password), put nova's token in that tab's
#    Headers, and like one of {DEMO_LOGIN}'s posts (or comment on it, or follow back).

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
