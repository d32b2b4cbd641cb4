"""The key a client sends, the scope it is kept under, and the fingerprint of a request."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from ..errors import ValidationError

__all__ = ["MAX_KEY_LENGTH", "fingerprint", "parse_key", "scoped_key"]

MAX_KEY_LENGTH = 255


def parse_key(value: str) -> str:
    """The key of an ``Idempotency-Key`` header: a structured-field string (``"8e03..."``, as the
    draft writes it) or the bare token; 1 to 255 printable ASCII characters, else a 400."""
    key = value.strip()
    if len(key) >= 2 and key[0] == key[-1] == '"':
        key = key[1:-1]
    if not key or len(key) > MAX_KEY_LENGTH or not all(" " < c <= "~" for c in key):
        raise ValidationError("Idempotency-Key must be 1 to 255 printable ASCII characters without spaces, "
                              'e.g. Idempotency-Key: "8e03978e-40d5-43e8-bc93-6894a57f9324".')
    return key


def scoped_key(key: str, *, driver: str, provider: str | None, account: str | None) -> str:
    """The key as stored: a SHA-256 over driver, provider, the account's credential digest and
    the client's key, so two accounts never share a key and no store sees a credential."""
    h = hashlib.sha256()
    for part in (driver, provider or "", account or "", key):
        h.update(part.encode("utf-8", "surrogateescape"))
        h.update(b"\x00")
    return h.hexdigest()


def fingerprint(method: str, path: str, fmt: str | None, params: Mapping[str, str]) -> str:
    """What makes two requests the same: method, path, negotiated format and every parameter."""
    text = json.dumps([method, path, fmt, sorted(params.items())], separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
