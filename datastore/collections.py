"""Imports every module that registers MongoDB indexes, so `ensure_indexes` sees them all.

Add a line here when a new module calls `register_indexes`.
"""

import datastore.accounts
import datastore.failed_jobs
import datastore.graph
import datastore.refresh_tokens  # noqa: F401
import services.interactions_base
import services.posts_indexes  # noqa: F401
