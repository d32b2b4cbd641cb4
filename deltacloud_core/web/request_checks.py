"""Checks of hostile request input made before anything else looks at the request (the prelude's).

Each returns the error to answer, or None:

* :func:`check_path`: percent-escapes that are not UTF-8 (``%ff`` and ``%fe`` would both become
  U+FFFD, two ids colliding in one) are a 400.
* :func:`check_choice`: a driver that is no driver id, or a provider with control characters
  (``%00``, ``%0d%0a``) or non-ASCII ones: a 400 (they are echoed in response headers, which
  cannot carry them).
* :func:`check_exact_ids`: an id that may hold slashes (a blob's, ``{blob_id:rest}``) is taken
  exactly as sent or refused: a ``;`` in it (``a;b=c`` would be the id ``a`` with a matrix
  parameter), an empty segment (``a//b``) or a dot segment (``..``, which clients remove from the
  id's own URL) is a 400.
* :func:`check_same_origin`: a browser request from another site (``Origin`` of another host,
  ``Sec-Fetch-Site: cross-site``) that would change something (``POST``, ``PUT``, ``DELETE`` ...,
  also as ``_method=delete``): a 403. Clients that are not browsers send neither header.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import unquote_to_bytes, urlsplit

from ..errors import DeltacloudError, ForbiddenError, ValidationError
from .matrix import MatrixPath

__all__ = ["SAFE_METHODS", "check_choice", "check_exact_ids", "check_path", "check_same_origin"]

#: A driver id: what entry-point names look like (``mock``, ``azure-storage``, ``ec2``).
_DRIVER_ID = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
#: What a provider may hold: printable ASCII (a URL, a region, ``ec2=host:port;s3=host:port``).
_PROVIDER = re.compile(r"[\x20-\x7e]{1,2048}")
#: Methods that change nothing: a browser may send them from anywhere.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"http": "80", "https": "443"}


def check_path(raw_path: str) -> DeltacloudError | None:
    """A 400 when the path's percent-escapes do not decode as UTF-8."""
    if "%" not in raw_path:
        return None
    try:
        unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError as exc:
        return ValidationError(f"The path is not UTF-8 once percent-decoded ({exc.reason} at byte {exc.start}): "
                               "percent-encode ids as UTF-8 (e.g. %C3%A9 for \u00e9).")
    return None


def check_choice(driver: str, provider: str | None) -> DeltacloudError | None:
    """A 400 for a driver or provider that cannot be a driver id or a provider."""
    if not _DRIVER_ID.fullmatch(driver):
        return ValidationError(f"Driver {driver!a} is not a driver id: use lower-case letters, digits, "
                               "'-', '_' and '.' (GET /api/drivers lists them).")
    if provider is not None and not _PROVIDER.fullmatch(provider):
        return ValidationError(f"Provider {provider!a} is not usable: a provider is printable ASCII "
                               "(a region, a URL; no control characters, non-ASCII host names in their "
                               "xn-- form), at most 2048 characters.")
    return None


_REST_PARAM = re.compile(r"\{(\w+):rest\}")


def check_exact_ids(template: str, matrix: MatrixPath, path_params: Mapping[str, str]) -> DeltacloudError | None:
    """A 400 when a ``{name:rest}`` parameter of the route ``template`` is not the path as sent."""
    if ":rest}" not in template:
        return None
    parts = template.split("/")
    for index, part in enumerate(parts):
        match = _REST_PARAM.fullmatch(part)
        if match is None:
            continue
        name = match.group(1)
        value = path_params.get(name, "")
        end = len(matrix.path.split("/")) - (len(parts) - index - 1)
        if any(index <= i < end for i in matrix.altered):
            return ValidationError(f"The {name.replace('_', ' ')} in the path holds ';' or an empty segment "
                                   "('//'): it would not be stored as sent. Percent-encode a ';' in an id as "
                                   "%3B; ids have no empty segments.")
        if any(segment in (".", "..") for segment in value.split("/")):
            return ValidationError(f"The {name.replace('_', ' ')} {value!a} has a '.' or '..' segment, which "
                                   "clients remove from its URL: choose another id.")
    return None


def _authority(scheme: str, netloc: str) -> str:
    """``host[:port]`` lower-cased, without the scheme's default port."""
    host, sep, port = netloc.lower().rpartition(":")
    return host if sep and port == _DEFAULT_PORTS.get(scheme) else netloc.lower()


def check_same_origin(method: str, headers: Mapping[str, str], host: str) -> DeltacloudError | None:
    """A 403 for a state-changing browser request sent from a page of another origin."""
    if method in SAFE_METHODS:
        return None
    site = headers.get("sec-fetch-site", "").strip().lower()
    if site in ("cross-site", "same-site"):
        return ForbiddenError(f"Cross-site request refused: a page of another site (Sec-Fetch-Site: {site}) "
                              f"cannot {method} here. Use this server's own pages, or a client that is not "
                              "a browser.")
    origin = headers.get("origin")
    if origin is None:
        return None
    parts = urlsplit(origin.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.netloc:
        return ForbiddenError(f"Cross-site request refused: Origin {origin!a} is not this server's.")
    scheme = parts.scheme
    if _authority(scheme, parts.netloc) not in (_authority(scheme, host), host.lower()):
        return ForbiddenError(f"Cross-site request refused: Origin {origin!a} is not this server "
                              f"({host!a}). Use this server's own pages, or a client that is not a browser.")
    return None
