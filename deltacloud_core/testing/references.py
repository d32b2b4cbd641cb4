"""Cross-references between the API's documents: every id a member names must resolve.

An instance names its image, realm, hardware profile, key, volumes, firewalls and network
interfaces; a volume its realm and the instance it is attached to; a snapshot its volume; a
blob its bucket; and so on (:data:`REFERENCES`). The kit reads them from the JSON documents
(the same for both transports) and shows each referenced member: it must exist (200) and be
the member named. A reference into a collection the driver does not serve cannot be checked
and is left out (its collection's own tests say why).

Some references may outlive what they name in a real cloud: an instance keeps the id of the
image it was launched from and of its key after they are deleted, a snapshot the id of its
volume (EC2 does all three). Those (``may_dangle``) are checked only on members the kit made
itself, during the test, when nothing they name can have gone; every other reference is checked
on every member looked at.

The original's one known dangling link is kept as it is: a network interface of a driver with
subnets names its subnet under ``network`` (its JSON ``href`` points into ``/networks``), so a
network interface's ``network`` may name a network or a subnet.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from .transport import Transport

__all__ = ["REFERENCES", "Reference", "reference_problems"]


def _one(*keys: str) -> Callable[[Mapping[str, Any]], list[str]]:
    """The ``id`` of the nested object at ``keys`` (``image`` -> ``{"id": ...}``), or a plain value."""

    def ids(doc: Mapping[str, Any]) -> list[str]:
        value: Any = doc
        for key in keys:
            value = value.get(key) if isinstance(value, Mapping) else None
        if isinstance(value, Mapping):
            value = value.get("id")
        return [] if value in (None, "") else [str(value)]

    return ids


def _many(key: str) -> Callable[[Mapping[str, Any]], list[str]]:
    """The ids of the list at ``key`` (objects with ``id``, or plain ids)."""

    def ids(doc: Mapping[str, Any]) -> list[str]:
        items = doc.get(key) or ()
        if not isinstance(items, list):
            return []
        out = [str(i.get("id") if isinstance(i, Mapping) else i) for i in items]
        return [i for i in out if i not in ("", "None")]

    return ids


@dataclass(frozen=True)
class Reference:
    """``field`` of a member of one collection names members of ``targets`` (the first that serves it)."""

    field: str
    targets: tuple[str, ...]
    ids: Callable[[Mapping[str, Any]], list[str]]
    #: The cloud may keep the id after what it names is gone (checked on the kit's own members only).
    may_dangle: bool = False


#: collection -> the references its members carry (by the JSON documents' keys).
REFERENCES: Mapping[str, tuple[Reference, ...]] = {
    "instances": (
        Reference("image", ("images",), _one("image"), may_dangle=True),
        Reference("realm", ("realms",), _one("realm")),
        Reference("hardware_profile", ("hardware_profiles",), _one("hardware_profile")),
        Reference("authentication.keyname", ("keys",), _one("authentication", "keyname"), may_dangle=True),
        Reference("storage_volumes", ("storage_volumes",), _many("storage_volumes")),
        Reference("firewalls", ("firewalls",), _many("firewalls")),
    ),
    "images": (Reference("hardware_profiles", ("hardware_profiles",), _many("hardware_profiles")),),
    "storage_volumes": (
        Reference("realm", ("realms",), _one("realm")),
        Reference("instance", ("instances",), _one("instance")),
    ),
    "storage_snapshots": (
        Reference("storage_volume", ("storage_volumes",), _one("storage_volume"), may_dangle=True),),
    "blobs": (Reference("bucket", ("buckets",), _one("bucket")),),
    "addresses": (Reference("instance_id", ("instances",), _one("instance_id")),),
    "networks": (Reference("subnets", ("subnets",), _many("subnets")),),
    "subnets": (Reference("network", ("networks",), _one("network")),),
    "network_interfaces": (
        Reference("instance", ("instances",), _one("instance")),
        Reference("network", ("networks", "subnets"), _one("network")),
    ),
    "load_balancers": (
        Reference("realms", ("realms",), _many("realms")),
        Reference("instances", ("instances",), _many("instances")),
    ),
}


def reference_problems(transport: Transport, collection: str, doc: Mapping[str, Any],
                       served: Mapping[str, str], *, made: bool = True) -> tuple[list[str], int]:
    """Problems of the references of one member document of ``collection``, and how many were
    checked. ``served``: the collections whose members the driver shows, each with its member
    tag (``storage_volumes`` -> ``storage_volume``); ``made``: the kit made the member during
    the test (else references that may dangle are left out)."""
    problems: list[str] = []
    checked = 0
    label = f"{collection} {doc.get('id')}"
    for ref in REFERENCES.get(collection, ()):
        if ref.may_dangle and not made:
            continue
        targets = {t: served[t] for t in ref.targets if t in served}
        if not targets:
            continue
        for target_id in ref.ids(doc):
            checked += 1
            problem = _resolve(transport, targets, target_id)
            if problem is not None:
                problems.append(f"{label}: its {ref.field} '{target_id}' {problem}")
    return problems, checked


def _resolve(transport: Transport, targets: Mapping[str, str], target_id: str) -> str | None:
    """None when one of ``targets`` shows ``target_id``; else what went wrong."""
    answers = []
    for target, tag in targets.items():
        path = f"/{target}/{quote(target_id, safe='')}"
        reply = transport.request("GET", path)
        if reply.status == 200:
            shown = reply.member(tag)
            if str(shown.get("id")) != target_id:
                return f"resolves to {tag} '{shown.get('id')}' (GET /api{path})"
            return None
        answers.append(f"GET /api{path}: {reply.describe()}")
    return "does not exist (" + "; ".join(answers) + ")"
