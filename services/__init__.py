"""Domain services: one verb per module (register_user, follow_user, create_post, ...).

They enforce the product's rules and call datastore/. Nothing here imports GraphQL.
"""
