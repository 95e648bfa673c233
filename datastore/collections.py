"""Imports every module that registers MongoDB indexes, so `ensure_indexes` sees them all.

Add a line here when a new module calls `register_indexes`.
"""

import worker.failures  # noqa: F401
