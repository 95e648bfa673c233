"""`Backend`: the seam between repositories and the MongoDB server's write semantics, chosen
once from `settings.mongo_flavor` when the stores are opened (`stores.backend`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from datastore.backend.base import Backend, OnJoined

if TYPE_CHECKING:
    from datastore.stores import Stores

__all__ = ["Backend", "OnJoined", "open_backend"]


def open_backend(stores: Stores) -> Backend:
    flavor = stores.settings.mongo_flavor
    if flavor == "mongodb":
        from datastore.backend.mongodb import MongoBackend

        return MongoBackend(stores)
    if flavor == "ferretdb":
        from datastore.backend.ferretdb import FerretBackend

        return FerretBackend(stores)
    raise ValueError(f"unknown MONGO_FLAVOR {flavor!r}")
