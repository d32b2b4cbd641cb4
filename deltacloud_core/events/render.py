"""Models as the JSON documents ``GET`` answers, rendered once per change for every subscriber."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from ..collections.base import Resource
from ..drivers.base import Driver
from ..schemas.context import RenderContext, rendering
from ..schemas.fastdump import dumper
from .model import BASE

__all__ = ["DocumentRenderer", "event_json"]


class DocumentRenderer:
    """Dumps a collection's models with the JSON schema of their resource, URLs under :data:`BASE`."""

    def __init__(self, resources: Mapping[str, Resource]) -> None:
        self.resources = resources

    def documents(self, singular: str, driver: Driver, models: Iterable[Any]) -> dict[str, dict[str, Any]]:
        """id -> document, in the driver's order (a round trip through JSON: the documents
        compare equal to ones read back from a store)."""
        resource = self.resources[singular]
        dump = dumper(resource.schemas["json"])
        context = RenderContext(api_url=BASE, driver_name=type(driver).driver_id, provider=driver.provider,
                                driver_cls=type(driver), driver=driver, state_machine=driver.state_machine)
        out: dict[str, dict[str, Any]] = {}
        with rendering(context):
            for model in models:
                doc = orjson.loads(orjson.dumps(dump(model), default=str))
                out[str(doc.get("id", getattr(model, "id", "")))] = doc
        return out


def event_json(data: Mapping[str, Any]) -> str:
    return orjson.dumps(data, default=str).decode("utf-8")
