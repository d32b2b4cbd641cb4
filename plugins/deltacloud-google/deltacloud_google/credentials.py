"""The two kinds of Google Cloud Storage credentials a request may carry (HTTP Basic).

* **Service-account key**: user = the account's e-mail (``client_email``), password = the JSON
  key file's text, or that text in base64 (what fits a password field). Used with the JSON API.
* **HMAC key** (the interoperability API the original driver used): user = the access id
  (``GOOG1E...``), password = the secret. Used with the XML API, which speaks S3 (SigV4).

A password that is JSON (or base64 of JSON) is taken as a key and must be a service-account
key whose ``client_email`` is the user; anything else is an HMAC secret. The key is parsed in
memory only: never written anywhere, never logged (:class:`ServiceAccountKey` hides it in
``repr``).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

from deltacloud_core import AuthenticationFailure, Credentials

__all__ = ["HmacKey", "ServiceAccountKey", "parse_credentials"]


@dataclass(frozen=True, slots=True)
class ServiceAccountKey:
    """A parsed service-account key (the ``private_key`` never shows in ``repr``)."""

    client_email: str
    project_id: str | None
    info: dict[str, Any] = field(repr=False)


@dataclass(frozen=True, slots=True)
class HmacKey:
    access_id: str
    secret: str = field(repr=False)


def _as_json(password: str) -> dict[str, Any] | None:
    """The JSON object the password holds (as is or base64), None when it holds none."""
    text = password.strip()
    if not text.startswith("{"):
        try:
            decoded = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        except (binascii.Error, ValueError):
            return None
        if not decoded.lstrip().startswith(b"{"):
            return None
        try:
            text = decoded.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        value = json.loads(text)
    except ValueError:
        raise AuthenticationFailure("The password looks like a JSON key but is not valid JSON: give the "
                                    "service-account key file's text (or its base64).") from None
    return value if isinstance(value, dict) else None


def parse_credentials(credentials: Credentials) -> ServiceAccountKey | HmacKey:
    """Which kind the request's credentials are (401 with the reason when they are neither)."""
    user, password = credentials.user or "", credentials.password or ""
    if not user or not password:
        raise AuthenticationFailure("Give an HMAC key (access id / secret) or a service account "
                                    "(its e-mail / its JSON key) as HTTP Basic credentials.")
    info = _as_json(password)
    if info is None:
        return HmacKey(user, password)
    if info.get("type") != "service_account":
        raise AuthenticationFailure(f"The JSON key is of type {info.get('type')!r}: a service-account key "
                                    "(type service_account) is needed.")
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise AuthenticationFailure(f"The service-account key lacks {', '.join(missing)}.")
    if info["client_email"] != user:
        raise AuthenticationFailure("The user must be the key's service-account e-mail (client_email).")
    return ServiceAccountKey(client_email=info["client_email"], project_id=info.get("project_id"), info=info)
