"""The GraphQL schema: Strawberry types per domain, assembled into one schema in schema/root.py."""
