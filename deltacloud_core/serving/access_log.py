"""The access log's line (``deltacloudd --access-log``): one line per request, never a forged one,
never a secret.

uvicorn's line is ``client - "METHOD path?query HTTP/1.1" status``, written as the client sent
it. :class:`AccessFormatter` makes it safe to read and to keep:

* control characters (a ``\\r\\n`` that would start a forged line, a terminal's escape sequences),
  spaces, ``"`` and anything outside printable ASCII are percent-encoded;
* the value of a query or matrix parameter whose name looks secret (``password``, ``secret``,
  ``token``, ``credential``, ``private_key``, in any case, also percent-encoded) is written
  ``[FILTERED]``, as error documents show them.
"""

from __future__ import annotations

import logging
import re
from copy import copy
from urllib.parse import unquote

from uvicorn.logging import AccessFormatter as UvicornAccessFormatter

from ..credentials import SECRET_WORDS

__all__ = ["AccessFormatter", "safe_request_target", "safe_text"]

_UNSAFE = re.compile(r'[^\x21-\x7e]|"')
#: ``name=value`` inside a query (``&`` separated) or a path segment's matrix part (``;`` separated).
_PARAM = re.compile(r"(?P<sep>^|[?&;])(?P<name>[^=&;?/]*)=(?P<value>[^&;/]*)")
FILTERED = "[FILTERED]"


def safe_text(text: str) -> str:
    """``text`` with every control, space, quote and non-ASCII character percent-encoded (UTF-8)."""
    return _UNSAFE.sub(lambda m: "".join(f"%{b:02X}" for b in m.group().encode("utf-8", "surrogateescape")), text)


def _filter_secrets(target: str) -> str:
    def replace(match: re.Match[str]) -> str:
        name = unquote(match.group("name")).lower()
        if match.group("value") and any(word in name for word in SECRET_WORDS):
            return f"{match.group('sep')}{match.group('name')}={FILTERED}"
        return match.group()

    return _PARAM.sub(replace, target)


def safe_request_target(target: str) -> str:
    """A request target (path, matrix parameters, query) as the access log writes it."""
    return safe_text(_filter_secrets(target))


class AccessFormatter(UvicornAccessFormatter):
    """uvicorn's access formatter on a safe request target and client address."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5:
            client, method, target, version, status = args
            record = copy(record)
            record.args = (safe_text(str(client)), safe_text(str(method)), safe_request_target(str(target)),
                           safe_text(str(version)), status)
        return super().formatMessage(record)
