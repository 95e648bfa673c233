"""Imports every module that registers MongoDB indexes, so `ensure_indexes` sees them all.

Add a line here when a new module calls `register_indexes`.
"""

import datastore.accounts
import datastore.comments
import datastore.failed_jobs
import datastore.graph
import datastore.hashtags
import datastore.likes
import datastore.locations
import datastore.notifications
import datastore.posts
import datastore.refresh_tokens
import datastore.shares
import datastore.uploads  # noqa: F401
