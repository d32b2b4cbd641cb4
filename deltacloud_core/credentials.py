"""Per-request credentials: parsed from HTTP Basic, handed to the driver, never kept."""

from __future__ import annotations

import binascii
import hashlib
from dataclasses import dataclass, field

__all__ = ["SECRET_WORDS", "Credentials", "parse_basic_authorization"]

#: Parameter names that hold a secret when they contain one of these (lower-cased): never echoed
#: in error documents nor written in the access log.
SECRET_WORDS = ("password", "secret", "private_key", "token", "credential")


@dataclass(frozen=True, slots=True)
class Credentials:
    """A user name and password for the backend cloud. ``repr`` never shows the password."""

    user: str
    password: str = field(repr=False)

    def __repr__(self) -> str:
        return f"Credentials(user={self.user!r}, password=***)"

    __str__ = __repr__

    def digest(self) -> str:
        """A stable, one-way key for caches (sha256 of user and password)."""
        h = hashlib.sha256()
        h.update(self.user.encode("utf-8", "surrogateescape"))
        h.update(b"\x00")
        h.update(self.password.encode("utf-8", "surrogateescape"))
        return h.hexdigest()

    @property
    def empty(self) -> bool:
        return not self.user and not self.password


def parse_basic_authorization(header: str | None) -> Credentials | None:
    """Credentials from an ``Authorization: Basic ...`` header; None if absent or not Basic."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        # base64.b64decode(..., validate=False) without its wrapper: ASCII only, junk skipped.
        decoded = binascii.a2b_base64(value.strip()).decode("utf-8", "surrogateescape")
    except (binascii.Error, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    return Credentials(user, password)
