"""What names a provider in bulkhead keys, metrics and logs: never credentials.

A provider may be a URL with a user and password in it (``https://user:pw@keystone/v3``) or carry
a query string; the label keeps scheme, host, port and path only, and is at most 120 characters.
"""

from __future__ import annotations

import re

__all__ = ["DEFAULT_PROVIDER", "provider_label"]

DEFAULT_PROVIDER = "default"

_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://|^|=)[^/@=\s]*@")
_QUERY = re.compile(r"[?#].*$")
_MAX = 120
_known: dict[str | None, str] = {}


def provider_label(provider: str | None) -> str:
    """The provider without userinfo, query or fragment (``default`` when none was named)."""
    label = _known.get(provider)
    if label is None:
        if not provider:
            label = DEFAULT_PROVIDER
        else:
            parts = [_QUERY.sub("", _USERINFO.sub(r"\g<scheme>", part)) for part in provider.split(";")]
            label = ";".join(parts)[:_MAX] or DEFAULT_PROVIDER
        if len(_known) >= 4096:
            _known.clear()
        _known[provider] = label
    return label
