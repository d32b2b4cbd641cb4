"""Small helpers that read AWS response shapes (tags, times, ids)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["aws_time", "looks_like", "name_tag", "name_tag_spec", "ruby_time", "s3_time", "unique"]


def name_tag(item: Mapping[str, Any]) -> str | None:
    """The ``Name`` tag of an EC2 object, if it has one."""
    for tag in item.get("Tags") or ():
        if tag.get("Key") == "Name":
            return str(tag.get("Value"))
    return None


def name_tag_spec(resource_type: str, name: str | None) -> list[dict[str, Any]]:
    """``TagSpecifications`` giving a new object a ``Name`` tag (none when there is no name)."""
    if not name:
        return []
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}]}]


def _utc(value: Any) -> dt.datetime | None:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC) if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return None


def aws_time(value: Any) -> str | None:
    """AWS's own timestamp text (``2013-03-06T10:00:00.000Z``), as the original passed it through."""
    when = _utc(value)
    if when is None:
        return None if value is None else str(value)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def ruby_time(value: Any) -> str | None:
    """A time as the original's Ruby ``Time#to_s`` in UTC printed it (``2013-03-06 10:00:00 UTC``)."""
    when = _utc(value)
    return when.strftime("%Y-%m-%d %H:%M:%S UTC") if when else (None if value is None else str(value))


def s3_time(value: Any) -> str | None:
    """A blob's last-modified time, as the other drivers print it (``2010-09-23 16:44:54 +0000``)."""
    when = _utc(value)
    return when.strftime("%Y-%m-%d %H:%M:%S +0000") if when else (None if value is None else str(value))


def looks_like(prefix: str, value: str | None) -> bool:
    """True when ``value`` is an AWS id of that kind (``sg-``, ``vpc-``, ``i-`` ...)."""
    return bool(value) and str(value).startswith(prefix)


def unique(items: Iterable[str]) -> list[str]:
    """Items in first-seen order, without repeats."""
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)
