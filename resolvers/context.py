"""The per-request (or per-WebSocket) context every resolver receives as `info.context`."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from aiodataloader import DataLoader
from bson import ObjectId
from saq import Queue

from core.cursor import CursorCodec, cursor_codec
from core.errors import Unauthenticated
from core.observers import NO_OBSERVERS, Observers
from datastore.stores import Stores
from services.tokens import bearer_token, decode_access_token

L = TypeVar("L", bound=DataLoader)


class Context:
    def __init__(
        self,
        stores: Stores,
        queue: Queue,
        *,
        request: Any = None,
        response: Any = None,
        authorization: str | None = None,
        client_address: str | None = None,
        request_id: str | None = None,
        observers: Observers = NO_OBSERVERS,
    ) -> None:
        self.stores = stores
        self.settings = stores.settings
        self.cursors: CursorCodec = cursor_codec(stores.settings)
        self.queue = queue
        self.observers = observers
        self.request = request
        self.response = response
        self.client_address = client_address
        self.request_id = request_id or uuid.uuid4().hex
        self.connection_params: dict[str, Any] | None = None
        self.extensions: dict[str, Any] = {}
        self._authorization = authorization
        self._viewer_id: ObjectId | None = None
        self._viewer_resolved = False
        self._loaders: dict[Callable[..., DataLoader], DataLoader] = {}

    # --- authentication ------------------------------------------------------------------
    def set_authorization(self, header_value: str | None) -> None:
        self._authorization = header_value
        self._viewer_resolved = False

    @property
    def viewer_id(self) -> ObjectId | None:
        """The authenticated user's id, or None for an anonymous request. A malformed, expired
        or forged token raises UNAUTHENTICATED rather than silently becoming anonymous."""
        if not self._viewer_resolved:
            token = bearer_token(self._authorization)
            self._viewer_id = decode_access_token(self.settings, token) if token else None
            self._viewer_resolved = True
        return self._viewer_id

    def require_viewer(self) -> ObjectId:
        viewer = self.viewer_id
        if viewer is None:
            raise Unauthenticated("You must be logged in")
        return viewer

    # --- dataloaders ---------------------------------------------------------------------
    def loader(self, factory: Callable[[Context], L]) -> L:
        """The request's instance of a dataloader, created on first use. Loaders live for one
        request so their caches never serve stale data across requests."""
        found = self._loaders.get(factory)
        if found is None:
            found = factory(self)
            self._loaders[factory] = found
        return found  # type: ignore[return-value]
