"""The JSON file a provider's cloud lives in: locked, read, replaced atomically.

This module is the driver's boundary with its "backend", so it is where failures become
Deltacloud errors: an unreadable file is a ProviderError (502), a file that is not JSON a
BackendError (500), a lock held too long a ProviderTimeout (504), a bad provider name a
ValidationError (400). Nothing else leaks out.
"""

from __future__ import annotations

import copy
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from deltacloud_core import BackendError, ProviderError, ProviderTimeout, ValidationError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; run a single server process there
    fcntl = None  # type: ignore[assignment]

#: Directory of the provider files (``<provider>.json``).
ENV_VAR = "DELTACLOUD_JSONFILE_DIR"
DEFAULT_PROVIDER = "default"
LOCK_TIMEOUT = 10.0
_PROVIDER = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")

#: What a provider holds before its file exists.
SEED: dict[str, Any] = {
    "users": {},
    "realms": [{"id": "local", "name": "This machine"}],
    "images": [
        {"id": "debian-12", "name": "Debian 12", "architecture": "x86_64", "description": "Debian bookworm"},
        {"id": "alpine-3", "name": "Alpine 3", "architecture": "aarch64", "description": "Alpine Linux"},
    ],
    "instances": [],
    "keys": [],
    "next_instance": 1,
}


def data_dir() -> Path:
    """Where the provider files are (read at each call, so tests can point it elsewhere)."""
    default = Path.home() / ".local" / "share" / "deltacloud-jsonfile"
    return Path(os.environ.get(ENV_VAR) or default)


def provider_names() -> list[str]:
    """Providers that have a file, and always the default one."""
    found = {p.stem for p in data_dir().glob("*.json") if _PROVIDER.match(p.stem)}
    return sorted(found | {DEFAULT_PROVIDER})


class Inventory:
    """One provider's file. Build one per request; it holds no data between calls."""

    def __init__(self, provider: str | None) -> None:
        name = provider or DEFAULT_PROVIDER
        if not _PROVIDER.match(name):
            raise ValidationError(f"Provider '{name}' is not a valid name: use lower-case letters, digits, - and _.")
        self.path = data_dir() / f"{name}.json"

    def read(self) -> dict[str, Any]:
        """A snapshot of the whole cloud."""
        with self._locked(exclusive=False):
            return self._load()

    @contextmanager
    def change(self) -> Iterator[dict[str, Any]]:
        """The cloud, to modify in place; written back when the block ends without an error."""
        with self._locked(exclusive=True):
            data = self._load()
            yield data
            self._save(data)

    # -- the file --------------------------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return copy.deepcopy(SEED)
        except OSError as exc:
            raise ProviderError(f"Cannot read {self.path}: {exc.strerror}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BackendError(f"{self.path} is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
        if not isinstance(data, dict):
            raise BackendError(f"{self.path} must hold a JSON object")
        for key, value in SEED.items():
            data.setdefault(key, copy.deepcopy(value))
        return data

    def _save(self, data: dict[str, Any]) -> None:
        try:
            with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=self.path.parent, delete=False,
                                             suffix=".tmp") as tmp:
                json.dump(data, tmp, indent=2, sort_keys=True)
            os.replace(tmp.name, self.path)
        except OSError as exc:
            raise ProviderError(f"Cannot write {self.path}: {exc.strerror}") from exc

    @contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path.with_suffix(".lock"), "a")
        except OSError as exc:
            raise ProviderError(f"Cannot open {self.path.parent}: {exc.strerror}") from exc
        with handle:
            if fcntl is not None:
                mode = fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH
                deadline = time.monotonic() + LOCK_TIMEOUT
                while True:
                    try:
                        fcntl.flock(handle, mode | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() > deadline:
                            raise ProviderTimeout(f"{self.path} stayed locked for {LOCK_TIMEOUT:g} s") from None
                        time.sleep(0.01)
            yield
