"""What one connection may cost the server: the limits ``deltacloudd`` enforces below the app.

Set by the operator (``deltacloudd`` flags, or these environment variables, which reach every
worker); the defaults suit a server behind a proxy and one on its own:

=============================  =====================================================  ========
``DELTACLOUD_MAX_HEAD_BYTES``  request line plus header fields, bytes (431 beyond;    65536
                               414 for a request target alone that long)
``DELTACLOUD_MAX_HEADERS``     header fields in one request (431 beyond)              100
``DELTACLOUD_HEAD_TIMEOUT``    seconds to send a whole request head, from the         20
                               connection (or the previous answer) on (408, closed)
``DELTACLOUD_BODY_TIMEOUT``    seconds a request body may pause while the server      60
                               waits for it (408, closed)
=============================  =====================================================  ========
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["ENV", "Limits"]

#: Field -> environment variable.
ENV: Mapping[str, str] = {
    "max_head_bytes": "DELTACLOUD_MAX_HEAD_BYTES",
    "max_headers": "DELTACLOUD_MAX_HEADERS",
    "head_timeout": "DELTACLOUD_HEAD_TIMEOUT",
    "body_timeout": "DELTACLOUD_BODY_TIMEOUT",
}


@dataclass(frozen=True)
class Limits:
    max_head_bytes: int = 64 * 1024
    max_headers: int = 100
    head_timeout: float = 20.0
    body_timeout: float = 60.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Limits:
        """The limits the environment sets (unset or empty: the default); ValueError for a value
        that is no positive number."""
        env = os.environ if env is None else env
        values: dict[str, float | int] = {}
        for name, variable in ENV.items():
            text = env.get(variable, "").strip()
            if not text:
                continue
            kind = int if name.startswith("max_") else float
            try:
                value = kind(text)
            except ValueError:
                raise ValueError(f"{variable} must be a {'whole ' if kind is int else ''}number: {text!r}") from None
            if not value > 0:
                raise ValueError(f"{variable} must be more than 0: {text!r}")
            values[name] = value
        return cls(**values)  # type: ignore[arg-type]

    def to_env(self) -> dict[str, str]:
        """The environment that gives these limits (for the worker processes)."""
        return {variable: str(getattr(self, name)) for name, variable in ENV.items()}
