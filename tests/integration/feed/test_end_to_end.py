"""Upload → createPost → the worker renders it → post.ready → fan-out job → a follower's feed,
all through GraphQL and a real worker process."""

from saq.job import Status

from core.ids import decode_id, to_global_id
from services.process_post_media import job_key
from tests.integration.posts.conftest import create_post, upload
from tests.support import samples
from tests.support.factories import create_user
from tests.support.processes import worker_process

FEED = "{ feed(first: 5) { nodes { id caption status author { username } } } }"


async def test_a_new_post_reaches_a_followers_feed_through_the_worker(settings, app, gql, stores):
    alice, alice_token = await create_user(stores, "alice")
    _, bob_token = await create_user(stores, "bob")
    follow = "mutation($id: ID!) { follow(userId: $id) { status } }"
    followed = await gql(follow, {"id": to_global_id("User", alice)}, token=bob_token)
    assert followed.ok()["follow"]["status"] == "FOLLOWING"
    assert (await gql(FEED, token=bob_token)).ok()["feed"]["nodes"] == []  # bob is active

    media = await upload(gql, alice_token, samples.photo(800, 600), "image/jpeg")
    with worker_process(settings):
        created = (await create_post(gql, alice_token, [media], caption="hello")).ok()
        post_id = decode_id(created["createPost"]["id"], "Post")
        # saq notifies completion, so these waits are on the jobs themselves, not on time.
        render = await app.state.queue.job(job_key(post_id))
        await render.refresh(until_complete=90)
        assert render.status == Status.COMPLETE, render.error
        fan_out = await app.state.queue.job(f"fanout:{post_id}")
        assert fan_out is not None, "post.ready did not enqueue the fan-out"
        await fan_out.refresh(until_complete=30)
        assert fan_out.status == Status.COMPLETE, fan_out.error
        assert fan_out.result == 1  # bob's timeline

    feed = (await gql(FEED, token=bob_token)).ok()["feed"]["nodes"]
    assert feed == [
        {
            "id": to_global_id("Post", post_id),
            "caption": "hello",
            "status": "READY",
            "author": {"username": "alice"},
        }
    ]
    own = (await gql(FEED, token=alice_token)).ok()["feed"]["nodes"]
    assert [n["caption"] for n in own] == ["hello"]
