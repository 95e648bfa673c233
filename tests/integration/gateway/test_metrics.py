"""/metrics in process: request latency by operation, errors by code, dataloader batch sizes,
cache and action counters, queue depth and lag refreshed on scrape, capped operation labels."""

from __future__ import annotations

from prometheus_client import REGISTRY

from core.events import _HANDLERS, load_handlers
from gateway import metrics
from tests.support.factories import create_user
from worker.jobs import ECHO
from worker.queue import enqueue


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_request_latency_and_errors_are_labelled_by_operation_and_code(make_client):
    gw = await make_client()
    before = _value(
        "photogram_graphql_request_duration_seconds_count", operation="Clock", type="query"
    )
    errors_before = _value(
        "photogram_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED", type="query"
    )
    for _ in range(3):
        (await gw("query Clock { serverTime }")).ok()
    await gw("query Broken { nope }")
    after = _value(
        "photogram_graphql_request_duration_seconds_count", operation="Clock", type="query"
    )
    assert after == before + 3
    assert (
        _value("photogram_graphql_errors_total", code="GRAPHQL_VALIDATION_FAILED", type="query")
        == errors_before + 1
    )


async def test_unnamed_and_excess_operation_names_get_fixed_labels(make_client):
    gw = await make_client()
    anon = _value(
        "photogram_graphql_request_duration_seconds_count", operation="anonymous", type="query"
    )
    (await gw("{ serverTime }")).ok()
    assert (
        _value(
            "photogram_graphql_request_duration_seconds_count", operation="anonymous", type="query"
        )
        == anon + 1
    )

    metrics.set_operation_name_cap(len(metrics._seen_operations))
    try:
        other = _value(
            "photogram_graphql_request_duration_seconds_count", operation="other", type="query"
        )
        (await gw("query NeverSeenBeforeName123 { serverTime }")).ok()
        assert (
            _value(
                "photogram_graphql_request_duration_seconds_count", operation="other", type="query"
            )
            == other + 1
        )
        assert metrics.operation_label("NeverSeenBeforeName123") == "other"
    finally:
        metrics.set_operation_name_cap(200)


async def test_dataloader_batches_are_observed(make_client):
    gw = await make_client()
    stores = gw.app.state.stores
    ids = [await create_user(stores, f"batch{i}") for i in range(3)]
    from core.ids import to_global_id

    fields = " ".join(
        f'u{i}: node(id: "{to_global_id("User", uid)}") {{ id }}' for i, (uid, _) in enumerate(ids)
    )
    count = _value("photogram_dataloader_batch_size_count", loader="users_by_id")
    total = _value("photogram_dataloader_batch_size_sum", loader="users_by_id")
    (await gw(f"{{ {fields} }}")).ok()
    # One batch of three keys, not three batches of one.
    assert _value("photogram_dataloader_batch_size_count", loader="users_by_id") == count + 1
    assert _value("photogram_dataloader_batch_size_sum", loader="users_by_id") == total + 3


async def test_helpers_and_event_handlers_count(make_client):
    metrics.observe_cache("test_cache", hit=True)
    metrics.observe_cache("test_cache", hit=False, count=2)
    assert _value("photogram_cache_requests_total", cache="test_cache", result="hit") >= 1
    assert _value("photogram_cache_requests_total", cache="test_cache", result="miss") >= 2

    load_handlers()
    for event, action in [
        ("post.ready", "post"),
        ("post.liked", "like"),
        ("comment.added", "comment"),
        ("user.followed", "follow"),
    ]:
        before = _value("photogram_actions_total", action=action)
        ours = [h for h in _HANDLERS[event] if h.__name__ == f"count_{action}"]
        assert len(ours) == 1, event
        await ours[0](None, post_id=None)
        assert _value("photogram_actions_total", action=action) == before + 1


async def test_metrics_endpoint_refreshes_queue_depth_and_lag(make_client):
    gw = await make_client()
    queue = gw.app.state.queue
    await enqueue(queue, ECHO, value=1)
    await enqueue(queue, ECHO, value=2)
    (await gw("query Clock { serverTime }")).ok()
    resp = await gw.http.get("/metrics")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/plain")
    text = resp.text
    assert 'photogram_queue_jobs{state="queued"} 2.0' in text
    assert 'photogram_queue_oldest_job_age_seconds{function="echo"}' in text
    assert _value("photogram_queue_oldest_job_age_seconds", function="echo") >= 0
    for name in (
        "photogram_graphql_request_duration_seconds_bucket",
        "photogram_graphql_errors_total",
        "photogram_graphql_query_cost_bucket",
        "photogram_dataloader_batch_size",
        "photogram_cache_requests_total",
        "photogram_actions_total",
        "photogram_websocket_connections",
        "photogram_active_subscriptions",
    ):
        assert name in text, name
