"""Timeouts, retries and chunk sizes of the google driver (environment of the server)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

__all__ = ["Settings"]

_MiB = 1024 * 1024


def _number(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    try:
        return float(raw) if raw else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Settings:
    """``DELTACLOUD_GOOGLE_CONNECT_TIMEOUT`` (10 s), ``_READ_TIMEOUT`` (60 s), ``_RETRY_SECONDS``
    (15: how long the SDK may retry an idempotent call), ``_CHUNK_SIZE`` (8 MiB, a multiple of
    256 KiB: upload chunk), ``_PAGE_SIZE`` (1000 names per listing page)."""

    connect_timeout: float = 10.0
    read_timeout: float = 60.0
    retry_seconds: float = 15.0
    chunk_size: int = 8 * _MiB
    page_size: int = 1000
    download_chunk: int = 256 * 1024

    @classmethod
    def from_env(cls) -> Settings:
        chunk = int(_number("DELTACLOUD_GOOGLE_CHUNK_SIZE", 8 * _MiB))
        chunk = max(256 * 1024, chunk - chunk % (256 * 1024))  # resumable chunks: multiples of 256 KiB
        return cls(connect_timeout=_number("DELTACLOUD_GOOGLE_CONNECT_TIMEOUT", 10.0),
                   read_timeout=_number("DELTACLOUD_GOOGLE_READ_TIMEOUT", 60.0),
                   retry_seconds=_number("DELTACLOUD_GOOGLE_RETRY_SECONDS", 15.0),
                   chunk_size=chunk, page_size=int(_number("DELTACLOUD_GOOGLE_PAGE_SIZE", 1000)))

    @property
    def timeouts(self) -> tuple[float, float]:
        return (self.connect_timeout, self.read_timeout)

    @property
    def retry(self) -> Any:
        from google.cloud.storage.retry import DEFAULT_RETRY

        return DEFAULT_RETRY.with_timeout(self.retry_seconds) if self.retry_seconds > 0 else None
