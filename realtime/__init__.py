"""Real-time delivery: Redis pub/sub between API processes, fanned out to WebSocket
subscriptions. Nothing here imports GraphQL."""
