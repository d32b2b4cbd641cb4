"""Log lines as JSON objects, one per line, with the request id of the request they belong to.

``deltacloudd --log-format json`` installs :class:`JsonFormatter` on every handler and
:class:`RequestIdFilter` (the id comes from :data:`current_request_id`, set per request by
:class:`~.requests.RequestObserver`). Fields: ``time`` (UTC, ISO 8601), ``level``, ``logger``,
``message``, ``request_id`` when inside a request, the ``extra`` fields a line was logged with
(the access log: ``method``, ``path``, ``route``, ``status``, ``duration_ms``, ``driver``,
``provider``) and ``exception`` with the trace. Nothing logs headers or credentials.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time

__all__ = ["JsonFormatter", "RequestIdFilter", "current_request_id"]

#: The id of the request being handled in this task (empty outside requests).
current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("deltacloud_request_id", default="")

_STANDARD = frozenset(vars(logging.LogRecord("", 0, "", 0, "", (), None)).keys()) | {"message", "asctime",
                                                                                     "color_message"}


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record made while a request is handled."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", ""):
            record.request_id = current_request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD and value not in (None, ""):
                out[name] = value if isinstance(value, str | int | float | bool) else str(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)
