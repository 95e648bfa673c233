"""Opaque global ids (`Node.id`): base64url of "Type:key". Keys are MongoDB ObjectIds as hex."""

from __future__ import annotations

import base64
import binascii

from bson import ObjectId
from bson.errors import InvalidId

from core.errors import BadInput


def to_global_id(type_name: str, key: str | ObjectId) -> str:
    raw = f"{type_name}:{key}".encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def from_global_id(global_id: str) -> tuple[str, str]:
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, key = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise BadInput(f"Malformed id: {global_id!r}") from exc
    if not type_name or not key:
        raise BadInput(f"Malformed id: {global_id!r}")
    return type_name, key


def parse_object_id(value: str | ObjectId) -> ObjectId:
    if isinstance(value, ObjectId):
        return value
    try:
        return ObjectId(value)
    except (InvalidId, TypeError) as exc:
        raise BadInput(f"Malformed id: {value!r}") from exc


def decode_id(global_id: str, expected_type: str) -> ObjectId:
    """Decode a global id that must name `expected_type`; raw hex ObjectIds are accepted too."""
    if len(global_id) == 24:
        try:
            return ObjectId(global_id)
        except InvalidId:
            pass
    type_name, key = from_global_id(global_id)
    if type_name != expected_type:
        raise BadInput(f"Expected an id of a {expected_type}, got one of a {type_name}")
    return parse_object_id(key)
