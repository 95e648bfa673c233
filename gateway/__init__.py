"""What the GraphQL server does besides resolving fields (README "Limits and metrics"):

- errors.py       `extensions.code` on every error, masked INTERNAL errors with the request id
- request_id.py   X-Request-Id on every request
- graphiql.py     the offline GraphiQL page
- limits.py       depth, alias and token limits, introspection switch (QUERY_TOO_COMPLEX)
- cost.py         static query cost (GitHub's node-limit rule)
- cost_limit.py   per-request ceiling (QUERY_TOO_COSTLY), budget charge, `extensions.cost`
- throttle.py     per-client leaky bucket of cost points in Redis (RATE_LIMITED, retryAfter)
- persisted_queries.py  Apollo APQ (PERSISTED_QUERY_NOT_FOUND)
- body_limit.py   request body size (413 PAYLOAD_TOO_LARGE)
- view.py         batch size (BATCH_TOO_LARGE), JSON transport errors, WebSocket cap
- ws_limit.py     per-user WebSocket connection count in Redis
- security.py     security headers, CORS allow-list
- metrics.py      Prometheus metrics and helpers (observe_batch, observe_cache, count_action)
- event_metrics.py  action counters fed by domain events
- observe.py      one JSON log line and the metrics per operation
- setup.py        what schema/root.py and app.py wire in
"""
