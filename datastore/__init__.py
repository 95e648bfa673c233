"""Clients for MongoDB, Redis and object storage, and the data access built on them.

Nothing here imports GraphQL; domain code (services/, feed/, media/) calls into this package.
"""
