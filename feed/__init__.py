"""The hybrid feed engine.

Fan-out on write pushes a READY post's id into each active follower's Redis timeline
(`fanout.py`, run by the worker); authors above the celebrity threshold are not fanned out and
their recent posts are pulled at read time (`reader.py`). `keys.py` owns every Redis key the
feed uses, `timelines.py` every operation on them, `rebuild.py` the way back from MongoDB (the
source of truth), `ranking.py` the RANKED order, `explore.py` the explore page, `handlers.py` the
reactions to domain events (follow, unfollow, block, post ready/deleted, likes).
"""
