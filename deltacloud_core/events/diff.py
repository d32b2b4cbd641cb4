"""Two listings of a collection, as documents, compared: the changes between them, in order."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Change", "diff_documents"]

Doc = Mapping[str, Any]


@dataclass(frozen=True)
class Change:
    """``created``, ``state`` (from, to), ``changed`` (which fields) or ``destroyed``."""

    kind: str
    resource_id: str
    #: The document now (for ``destroyed``: as it was last seen).
    doc: Doc
    old_state: str | None = None
    new_state: str | None = None
    fields: tuple[str, ...] = ()


def _state(doc: Doc | None) -> str | None:
    value = doc.get("state") if doc is not None else None
    return None if value is None else str(value)


def diff_documents(before: Mapping[str, Doc], now: Mapping[str, Doc]) -> list[Change]:
    """What happened between ``before`` and ``now`` (id -> document): created, state and changed
    members in the order of ``now``, then the destroyed ones in the order of ``before``.

    A changed state is a ``state`` change even when other fields changed with it (the actions
    an instance allows follow its state); other differences are ``changed`` with the top-level
    fields that differ.
    """
    out: list[Change] = []
    for rid, doc in now.items():
        old = before.get(rid)
        if old is None:
            out.append(Change("created", rid, doc, None, _state(doc)))
            continue
        if old == doc:
            continue
        old_state, new_state = _state(old), _state(doc)
        if old_state != new_state:
            out.append(Change("state", rid, doc, old_state, new_state))
            continue
        fields = tuple(k for k in doc if old.get(k) != doc[k]) + tuple(k for k in old if k not in doc)
        out.append(Change("changed", rid, doc, old_state, new_state, fields))
    out.extend(Change("destroyed", rid, doc, _state(doc), None) for rid, doc in before.items() if rid not in now)
    return out
