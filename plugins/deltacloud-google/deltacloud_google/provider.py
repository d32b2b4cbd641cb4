"""The provider of a google request: the project, and where the API is.

Forms (``X-Deltacloud-Provider``, ``;provider=``, ``deltacloudd -P``):

* ``my-project``: the project whose buckets are listed and created in (default: the
  service-account key's ``project_id``; with an HMAC key, the key's own project);
* ``my-project;endpoint=http://127.0.0.1:4443`` or ``endpoint=URL``: another endpoint, such as
  an emulator (fake-gcs-server) or, for HMAC keys, any host serving the XML API.

Without an endpoint, ``STORAGE_EMULATOR_HOST`` is honoured as Google's own tools honour it.
The endpoint is the JSON API's for a service-account key and the XML API's for an HMAC key
(``https://storage.googleapis.com`` for both by default). An emulator endpoint gets no OAuth
token (as google-cloud-storage does with ``STORAGE_EMULATOR_HOST``): it checks none.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from functools import lru_cache

from deltacloud_core import ValidationError

__all__ = ["GOOGLE_ENDPOINT", "Target", "resolve"]

GOOGLE_ENDPOINT = "https://storage.googleapis.com"
_PROJECT = re.compile(r"^[a-z][a-z0-9.:-]{3,62}[a-z0-9]$")


@dataclass(frozen=True, slots=True)
class Target:
    project: str | None
    endpoint: str
    #: True when the endpoint is not Google's (an emulator or another XML API host).
    custom: bool


def _url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not value:
        raise ValidationError("The endpoint in the provider is empty.")
    return value if "://" in value else f"http://{value}"


@lru_cache(maxsize=256)
def _resolve(provider: str, emulator: str) -> Target:
    project: str | None = None
    endpoint: str | None = None
    for part in provider.split(";"):
        part = part.strip()
        if not part or part == "default":
            continue
        name, sep, value = part.partition("=")
        if sep and name.strip().lower() in ("endpoint", "url"):
            endpoint = _url(value)
        elif sep and name.strip().lower() == "project":
            project = value.strip()
        elif not sep:
            project = part
        else:
            raise ValidationError(f"Provider part '{part}' is not understood: write PROJECT, "
                                  "PROJECT;endpoint=URL or endpoint=URL.")
    if project is not None and not _PROJECT.match(project):
        raise ValidationError(f"'{project}' is not a Google Cloud project id (6-30 lower-case letters, digits "
                              "and hyphens).")
    if endpoint is None and emulator:
        endpoint = _url(emulator)
    if endpoint is None:
        return Target(project, GOOGLE_ENDPOINT, custom=False)
    return Target(project, endpoint, custom=endpoint.rstrip("/") != GOOGLE_ENDPOINT)


def resolve(provider: str | None) -> Target:
    """The project and endpoint ``provider`` stands for (400 when it is not understood)."""
    return _resolve((provider or "").strip(), os.environ.get("STORAGE_EMULATOR_HOST", "").strip())
