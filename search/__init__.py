"""Search: users, hashtags and locations, and the hashtag and location pages.

Served from Redis structures kept up to date by domain-event handlers (`search.handlers`) and
rebuildable from MongoDB (`search.index.rebuild_index`). Nothing here imports GraphQL.
"""
