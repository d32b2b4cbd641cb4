"""An OpenAPI 3.1 description of the API as one driver offers it, generated, never hand-written.

Sources: the collection registry (operations, their parameters, capabilities and formats), the
feature catalogue (the parameters a feature adds, for the features the driver declares), the
driver class (which operations it implements, its static hardware profiles) and the JSON dump
schemas (marshmallow) of the resources. So the document of ``;driver=mock`` lists what mock
answers and nothing else: a collection or operation the driver lacks (a 412 there) is left out,
and ``hwp_*`` overrides of ``POST /api/instances`` are bounded by the driver's profiles.

marshmallow has no JSON Schema converter; :func:`resource_schema` maps each dump field by its
class (``String`` -> string or null ...). Fields computed by a function have no declared type:
those are typed from a short table of known shapes (links, addresses) and otherwise left open
(``{}``, any JSON value) with a description, so the schemas never claim what a dump may not
hold. ``tests/test_openapi.py`` validates the document against the OpenAPI 3.1 schema and real
answers of the mock driver against the component schemas.

:func:`describe_operation` is shared with the ``/api/docs`` pages (:mod:`.docs`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from marshmallow import Schema, fields

from ..collections.base import Collection, Operation, Resource
from ..drivers.base import Driver
from ..hardware import HardwareProfile, HardwareProperty, format_value
from ..schemas.base import SHAPE
from ..schemas.shapes import ANY
from . import idempotent
from .settings import API_VERSION

if TYPE_CHECKING:
    from ..features import FeatureRegistry
    from .services import Services

__all__ = ["ParamDoc", "build_openapi", "collection_path", "describe_operation", "resource_schema"]

#: The original's standard operations (their OPTIONS routes are ``/api/<c>/<name>``).
STANDARD_OPERATIONS = ("index", "show", "create", "destroy", "update")
_PATH_PARAM = re.compile(r"{([^}:]+)(?::[^}]*)?}")
_BODY_METHODS = ("POST", "PUT")


# -- parameters ---------------------------------------------------------------------------------

@dataclass
class ParamDoc:
    """One parameter of an operation as documented for a driver."""

    name: str
    type: str
    required: bool
    description: str
    #: ``path``, ``query``, ``body`` (form field) or ``file`` (a multipart file part).
    location: str
    #: ``operation``, ``feature`` or ``hardware profile``.
    source: str = "operation"
    feature: str | None = None
    values: tuple[str, ...] = ()
    #: JSON Schema of the value (constraints from the driver included).
    schema: dict[str, Any] = field(default_factory=dict)
    #: Per hardware profile: ``(profile id, allowed values as text)``.
    profiles: list[tuple[str, str]] = field(default_factory=list)


def collection_path(collection: Collection) -> str:
    """The URL template of a collection: ``/api/instances``, ``/api/buckets/{id}`` (blobs)."""
    return f"/api/{collection.parent}/{{id}}" if collection.parent else f"/api/{collection.name}"


_CONVERTOR = re.compile(r"\{(\w+):\w+\}")


def path_params(path: str) -> list[str]:
    return _PATH_PARAM.findall(path)


def _value_schema(type_name: str) -> dict[str, Any]:
    if type_name == "array":
        return {"type": "array", "items": {"type": "string"}}
    if type_name == "hash":
        return {"type": "object"}
    if type_name in ("integer", "number", "boolean"):
        return {"type": type_name}
    return {"type": "string"}  # "string", and mis-declared types such as the original's "required"


_CONSTRAINT_KEYWORDS = {"max_length": "maxLength", "min_length": "minLength", "pattern": "pattern",
                        "maximum": "maximum", "minimum": "minimum"}


def _numeric(value: object) -> float | int | str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    try:
        number = float(str(value))
    except ValueError:
        return str(value)
    return int(number) if number.is_integer() else number


def _static_profiles(driver_cls: type[Driver] | None) -> list[HardwareProfile]:
    return list(driver_cls.HARDWARE_PROFILES) if driver_cls is not None else []


def _prop_text(prop: HardwareProperty) -> str:
    """``7680 \u2013 15360 MB`` (an en dash), ``850, 1024 GB``, ``1740.8 MB (fixed)``."""
    unit = f" {prop.unit}" if prop.unit and prop.unit not in ("label", "count") else ""
    if prop.kind == "range":
        return f"{format_value(prop.first)} \u2013 {format_value(prop.last)}{unit}"
    if prop.kind == "enum":
        return ", ".join(format_value(v) for v in prop.values) + unit
    return f"{format_value(prop.value)}{unit} (fixed)"


def describe_operation(features: FeatureRegistry, collection: Collection, op: Operation,
                       driver_cls: type[Driver] | None) -> list[ParamDoc]:
    """The parameters of ``op`` for ``driver_cls``: path, the operation's own, then those added by
    the driver's features (all catalogue features when ``driver_cls`` is None), with the driver's
    hardware-profile bounds on ``hwp_*`` overrides."""
    full_path = collection_path(collection) + op.path
    in_path = path_params(full_path)
    body = op.http_method in _BODY_METHODS
    docs: dict[str, ParamDoc] = {}
    for name in in_path:
        declared = next((p for p in op.params if p.name == name), None)
        desc = declared.description if declared and declared.description else (
            f"{collection.parent or collection.name} id".replace("_", " ").capitalize() if name == "id"
            else name.replace("_", " ").capitalize())
        docs[name] = ParamDoc(name, "string", True, desc, "path", schema={"type": "string"})
    for p in op.params:
        if p.name in docs:
            continue
        location = ("file" if op.accepts_uploads and p.type == "hash" else "body") if body else "query"
        schema = _value_schema(p.type)
        if p.values:
            schema["enum"] = list(p.values)
        docs[p.name] = ParamDoc(p.name, p.type if p.type in ("string", "array", "hash") else "string", p.required,
                                p.description, location, values=p.values, schema=schema)
    for feature in features.for_collection(collection.name):
        if feature.operation != op.name:
            continue
        if driver_cls is not None and not driver_cls.has_feature(collection.name, feature.name):
            continue
        constraints = driver_cls.FEATURE_CONSTRAINTS.get((collection.name, feature.name), {}) if driver_cls else {}
        for fp in feature.params:
            existing = docs.get(fp.name)
            if existing is not None:
                existing.feature = existing.feature or feature.name
                continue
            schema = _value_schema(fp.type)
            for key, value in constraints.items():
                keyword = _CONSTRAINT_KEYWORDS.get(key)
                schema[keyword or f"x-{key}"] = _numeric(value) if keyword and keyword != "pattern" else value
            desc = fp.description or feature.description
            docs[fp.name] = ParamDoc(fp.name, fp.type, False, desc, "body" if body else "query", source="feature",
                                     feature=feature.name, schema=schema)
    profiles = _static_profiles(driver_cls)
    for doc in docs.values():
        if doc.name == "hwp_id" and profiles:
            doc.schema["enum"] = [p.id for p in profiles]
            doc.values = tuple(p.id for p in profiles)
            doc.profiles = [(p.id, ", ".join(f"{x.name} {_prop_text(x)}" for x in p.properties) or "no properties")
                            for p in profiles]
        elif doc.name.startswith("hwp_") and profiles:
            prop_name = doc.name[4:]
            rows = [(p.id, _prop_text(prop)) for p in profiles if (prop := p.property(prop_name)) is not None]
            if rows:
                doc.source = "hardware profile"
                doc.profiles = rows
                numeric = all(isinstance(_numeric(v), (int, float)) for p in profiles
                              if (prop := p.property(prop_name)) is not None
                              for v in (prop.first, prop.last, *prop.values, prop.value) if v is not None)
                doc.schema = {"type": "number"} if numeric else {"type": "string"}
    return list(docs.values())


def _profile_branches(params: Sequence[ParamDoc], profiles: Sequence[HardwareProfile]) -> list[dict[str, Any]]:
    """``anyOf`` branches: no profile (and no override), or one per profile with its bounds."""
    overrides = [d.name for d in params if d.name.startswith("hwp_") and d.name != "hwp_id" and d.profiles]
    branches: list[dict[str, Any]] = [{"not": {"anyOf": [{"required": [n]} for n in ["hwp_id", *overrides]]}}]
    for profile in profiles:
        props: dict[str, Any] = {"hwp_id": {"const": profile.id}}
        for name in overrides:
            prop = profile.property(name[4:])
            if prop is None:
                props[name] = False  # the profile has no such property: no override
            elif prop.kind == "range":
                props[name] = {"minimum": _numeric(prop.first), "maximum": _numeric(prop.last)}
            elif prop.kind == "enum":
                props[name] = {"enum": [_numeric(v) for v in prop.values]}
            else:
                props[name] = {"const": _numeric(prop.value)}
        branches.append({"title": f"Hardware profile {profile.id}", "properties": props, "required": ["hwp_id"]})
    return branches


# -- resource schemas ---------------------------------------------------------------------------

_FIELD_TYPES: tuple[tuple[type[fields.Field], dict[str, Any]], ...] = (
    (fields.Boolean, {"type": ["boolean", "null"]}),
    (fields.Integer, {"type": ["integer", "null"]}),
    (fields.Float, {"type": ["number", "null"]}),
    (fields.Decimal, {"type": ["number", "null"]}),
    (fields.DateTime, {"type": ["string", "null"], "format": "date-time"}),
    (fields.String, {"type": ["string", "null"]}),
    (fields.List, {"type": ["array", "null"]}),
    (fields.Dict, {"type": ["object", "null"]}),
)


def component_name(resource: str) -> str:
    """``hardware_profile`` -> ``HardwareProfile``."""
    return "".join(part.title() for part in resource.split("_"))


def _field_schema(name: str, fld: fields.Field) -> dict[str, Any]:
    """A JSON dump field's JSON Schema: the shape it declares (``computed(..., shape=)``), else
    what its class and name say (``href`` is a URI, ``id`` a string)."""
    declared = fld.metadata.get(SHAPE)
    if declared is not None:
        return dict(declared)
    if name == "id" and isinstance(fld, fields.String):
        return {"type": "string"}
    if name == "href":
        return {"type": "string", "format": "uri"}
    for cls, schema in _FIELD_TYPES:
        if isinstance(fld, cls):
            return dict(schema)
    return dict(ANY)


def resource_schema(resource: Resource) -> dict[str, Any]:
    """JSON Schema of one resource's JSON dump, from its schema: a marshmallow schema's fields, or
    the ``shape`` another dumper declares."""
    schema = resource.schemas.get("json")
    if not isinstance(schema, Schema):
        shape = getattr(schema, "shape", None)
        return dict(shape) if shape is not None else {
            "description": f"A {resource.name.replace('_', ' ')} (shape not declared)."}
    props: dict[str, Any] = {}
    for name, fld in schema.dump_fields.items():
        key = fld.data_key or name
        props[key] = _field_schema(key, fld)
    required = [k for k in ("id", "href") if k in props]
    out: dict[str, Any] = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


# -- responses ----------------------------------------------------------------------------------

def _ref(resource: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{component_name(resource)}"}


def _wrapped(key: str, resource: str) -> dict[str, Any]:
    return {"type": "object", "properties": {key: _ref(resource)}, "required": [key]}


def _listed(key: str, resource: str) -> dict[str, Any]:
    return {"type": "object", "properties": {key: {"type": "array", "items": _ref(resource)}}, "required": [key]}


@dataclass(frozen=True)
class _Answer:
    status: str
    description: str
    #: JSON Schema of the JSON body, None for a body-less answer.
    json: dict[str, Any] | None = None
    #: Media type of a raw body (blob content) instead of the three document formats.
    raw: str | None = None
    location: bool = False


def _answer(collection: Collection, op: Operation) -> _Answer:
    """What a successful call answers, from the operation's :class:`~..collections.base.Answer`."""
    answer = op.success(collection)
    res = next((r for r in collection.resources if r.name == answer.resource), None) if answer.resource else (
        collection.resources[0] if collection.resources else None)
    name = res.name if res else (answer.resource or collection.singular)
    tag = res.tag if res else name
    plural = res.plural if res else collection.name
    bodies: dict[str | None, dict[str, Any] | None] = {
        "member": _wrapped(tag, name), "list": _listed(plural, name), "bare": _ref(name),
        "member_or_list": {"anyOf": [_wrapped(tag, name), _listed(plural, name)]}, "raw": None, None: None}
    return _Answer(str(answer.status), answer.description, bodies[answer.body],
                   raw=answer.media_type if answer.body == "raw" else None, location=answer.location)


_ERRORS = {
    "400": "A required parameter is missing or a value is invalid (also: a path, driver or provider that "
           "cannot be used)",
    "401": "Credentials are missing or wrong (HTTP Basic)",
    "403": "Refused: a provider the operator does not allow, a cross-site browser request, or the cloud's refusal",
    "404": "No such object",
    "405": "The action is not allowed in the object's current state",
    "406": "None of the accepted formats is available",
    "409": "The first request with this Idempotency-Key is still running: send it again later",
    "412": "The driver does not support this operation (Expect names the capability)",
    "413": "The request body is larger than the server's limit",
    "416": "No byte of the Range exists (Content-Range names the size)",
    "422": "This Idempotency-Key was used for a different request",
    "429": "Too many event streams for these credentials (Retry-After)",
    "500": "The cloud or the driver failed",
    "501": "The driver offers none of what is asked for",
    "502": "The cloud answered with an error",
    "503": "The server is at a limit for now: this cloud's share of concurrent calls, the event streams, "
           "or the store of Idempotency-Keys is unreachable (Retry-After; nothing was done)",
    "504": "The cloud did not answer in time",
}
#: A GET whose If-None-Match names the answer's current ETag (cheap polling).
_NOT_MODIFIED = {"description": "Not Modified: If-None-Match names the answer's current ETag (no body)",
                 "headers": {"ETag": {"schema": {"type": "string"}}}}
#: The header that makes a create or an action safe to retry (docs/running.md).
_IDEMPOTENCY_PARAM = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Makes retrying this request safe: the first answer under a key is kept and sent again "
                   "(Idempotent-Replayed: true); 1 to 255 printable ASCII characters",
    "schema": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"}}

#: What every request below /api may answer besides its success: the prelude's refusals.
_PRELUDE_ERRORS = ("400", "406")
#: What every operation that calls the driver may answer besides.
_DRIVER_ERRORS = ("401", "403", "404", "500", "502", "503", "504")


def _error_responses(op: Operation) -> dict[str, Any]:
    codes = set(_PRELUDE_ERRORS)
    if not op.driverless:
        codes.update(_DRIVER_ERRORS)
    elif op.member:
        codes.add("404")
    if op.http_method in _BODY_METHODS or op.http_method == "DELETE":
        codes.update(("403", "413"))
    if op.name in ("start", "stop", "reboot", "destroy") and op.member:
        codes.add("405")
    if not op.driverless and idempotent.applies_to(op):
        codes.update(("409", "422"))
    if op.name == "content" and op.http_method == "GET":
        codes.add("416")
    return {c: {"$ref": f"#/components/responses/E{c}"} for c in sorted(codes)}


def _refs(*codes: str) -> dict[str, Any]:
    return {c: {"$ref": f"#/components/responses/E{c}"} for c in codes}


def _document_content(answer: _Answer, formats: Iterable[str], services: Services) -> dict[str, Any]:
    content: dict[str, Any] = {}
    if answer.raw:
        return {answer.raw: {"schema": {"type": "string"}}}
    if answer.json is None:
        return content
    if "png" in formats:
        content["image/png"] = {"schema": {"type": "string", "contentMediaType": "image/png"}}
    if "gv" in formats:
        content["application/ghostscript"] = {"schema": {"type": "string", "description": "Graphviz source"}}
    for fmt in sorted(formats, key=lambda f: ("json", "xml", "html").index(f) if f in ("json", "xml", "html") else 3):
        if fmt == "json":
            content["application/json"] = {"schema": answer.json}
        elif fmt == "xml":
            content["application/xml"] = {"schema": {"type": "string", "description": "The XML form (FORMATS.md)"}}
        elif fmt == "html":
            content["text/html"] = {"schema": {"type": "string", "description": "A browsable page"}}
        elif fmt in services.document_formats:  # a plugin's format
            renderer = services.renderers[fmt]
            content[renderer.content_type] = {"schema": {"type": "string", "description": f"The {fmt} form"}}
    return content


# -- the document -------------------------------------------------------------------------------

def _format_param(formats: Iterable[str]) -> dict[str, Any]:
    return {"name": "format", "in": "query", "required": False,
            "description": "Chooses the answer's format instead of the Accept header.",
            "schema": {"type": "string", "enum": sorted(formats)}}


def _operation_object(services: Services, collection: Collection, op: Operation,
                      driver_cls: type[Driver]) -> dict[str, Any]:
    docs = describe_operation(services.features, collection, op, driver_cls)
    parameters: list[dict[str, Any]] = []
    for d in docs:
        if d.location in ("path", "query"):
            item: dict[str, Any] = {"name": d.name, "in": d.location, "required": d.required or d.location == "path",
                                    "schema": d.schema}
            if d.description:
                item["description"] = d.description
            if d.feature:
                item["x-deltacloud-feature"] = d.feature
            parameters.append(item)
    formats = services.formats_of(op)
    parameters.append(_format_param(formats))
    if not op.driverless and idempotent.applies_to(op):
        parameters.append(_IDEMPOTENCY_PARAM)
    obj: dict[str, Any] = {
        "operationId": f"{collection.name}_{op.name}",
        "tags": [collection.parent or collection.name],
        "summary": op.description or f"{op.name} {collection.name}",
        "parameters": parameters,
    }
    features = sorted({d.feature for d in docs if d.feature})
    if features:
        obj["x-deltacloud-features"] = features
    if op.capability:
        obj["x-deltacloud-capability"] = op.capability
    body = [d for d in docs if d.location in ("body", "file")]
    if op.streams_body:
        obj["requestBody"] = {"required": True, "description": "The blob's content, streamed",
                              "content": {"application/octet-stream": {"schema": {
                                  "type": "string", "contentMediaType": "application/octet-stream"}}}}
    elif op.http_method in _BODY_METHODS:
        props: dict[str, Any] = {}
        for d in body:
            schema = dict(d.schema)
            if d.location == "file":
                schema = {"type": "string", "contentMediaType": "application/octet-stream"}
            if d.description:
                schema["description"] = d.description
            if d.feature:
                schema["x-deltacloud-feature"] = d.feature
            props[d.name] = schema
        form: dict[str, Any] = {"type": "object", "properties": props}
        required = [d.name for d in body if d.required]
        if required:
            form["required"] = required
        profiles = _static_profiles(driver_cls)
        if any(d.profiles and d.name.startswith("hwp_") and d.name != "hwp_id" for d in body) and profiles:
            form["anyOf"] = _profile_branches(body, profiles)
        media = ["multipart/form-data"] if op.accepts_uploads else ["application/x-www-form-urlencoded",
                                                                    "multipart/form-data"]
        if props:  # actions (stop, reboot ...) take no body
            obj["requestBody"] = {"required": bool(required), "content": {m: {"schema": form} for m in media}}
    answer = _answer(collection, op)
    response: dict[str, Any] = {"description": answer.description}
    content = _document_content(answer, formats, services)
    if content:
        response["content"] = content
    if answer.location:
        response["headers"] = {"Location": {"description": "URL of the new object",
                                            "schema": {"type": "string", "format": "uri"}}}
    obj["responses"] = {answer.status: response, **_error_responses(op)}
    if op.http_method == "GET" and answer.status == "200":
        obj["responses"]["304"] = _NOT_MODIFIED
    if answer.json is None and answer.raw is None and op.http_method in ("DELETE", "POST") and "html" in formats:
        obj["responses"]["303"] = {"description": "Done; an HTML client is sent to the list (Location)",
                                   "headers": {"Location": {"schema": {"type": "string", "format": "uri"}}}}
    if op.driverless:
        obj["security"] = []
    return obj


def _form_object(collection: Collection, form: Operation) -> dict[str, Any]:
    params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
              for n in path_params(collection_path(collection) + form.path)]
    params += [{"name": p.name, "in": "query", "required": False, "schema": {"type": "string"},
                **({"description": p.description} if p.description else {})}
               for p in form.params if p.name not in path_params(collection_path(collection) + form.path)]
    return {"operationId": f"{collection.name}_form_{form.name}", "tags": [collection.parent or collection.name],
            "summary": form.description or f"HTML form: {form.name}",
            "description": "An HTML-only page of the browsable interface (406 for other formats).",
            "parameters": params,
            "responses": {"200": {"description": "The form", "content": {"text/html": {"schema": {"type": "string"}}}},
                          **_refs("400", "401", "403", "404", "406", "500", "502", "504")}}


def _options_object(op_id: str, tag: str, summary: str, path: str) -> dict[str, Any]:
    obj: dict[str, Any] = {"operationId": op_id, "tags": [tag], "summary": summary, "security": [],
                           "responses": {"200": {"description": "Empty; the answer is the Allow header", "headers": {
                               "Allow": {"schema": {"type": "string"}}}}, **_refs(*_PRELUDE_ERRORS)}}
    names = path_params(path)
    if names:
        obj["parameters"] = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}}
                             for n in names]
    return obj


def _head_object(op_id: str, tag: str, path: str) -> dict[str, Any]:
    obj = _options_object(op_id, tag, "Empty 200 (HEAD on a non-GET route, as the original answered)", path)
    # A form's GET may serve the same path (``/api/instances/{id}/run``): its answers too.
    obj["responses"] = {"200": {"description": "Empty"}, **_refs(*_PRELUDE_ERRORS, "401", "404")}
    return obj


def _plain_get(op_id: str, tag: str, summary: str, media: dict[str, Any], security: bool = False,
               parameters: list[dict[str, Any]] | None = None, errors: Sequence[str] = ()) -> dict[str, Any]:
    obj: dict[str, Any] = {"operationId": op_id, "tags": [tag], "summary": summary,
                           "responses": {"200": {"description": summary, "content": media}, **_refs(*errors)}}
    if parameters:
        obj["parameters"] = parameters
    if not security:
        obj["security"] = []
    return obj


def _add(paths: dict[str, Any], path: str, method: str, obj: dict[str, Any]) -> None:
    item = paths.setdefault(_CONVERTOR.sub(r"{\1}", path), {})  # {blob_id:rest} -> {blob_id}
    if method in item:
        return  # first declaration wins, as in the router
    item[method] = obj


def supported_operations(collection: Collection, driver_cls: type[Driver], registry: Any) -> list[Operation]:
    """The operations of ``collection`` that ``driver_cls`` answers (not with 412)."""
    if collection.parent is not None:
        parent = registry.get(collection.parent)
        if parent is None or not parent.supported_by(driver_cls):
            return []
    elif not collection.supported_by(driver_cls):
        return []
    return [op for op in collection.operations if op.supported_by(driver_cls)]


_EVENT_PARAMS = (("collection", "Comma-separated collections (default: all)"), ("id", "Only this resource"),
                 ("state", "Only changes to this state"),
                 ("last_event_id", "Resume after this event (or Last-Event-ID)"))


def build_openapi(services: Services, driver_cls: type[Driver], *, server_url: str, driver_name: str,
                  provider: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the API as ``driver_cls`` offers it, served at ``server_url``."""
    paths: dict[str, Any] = {}
    tags: list[dict[str, Any]] = [{"name": "api", "description": "Entry point, documentation and this description"}]
    used_resources: dict[str, Resource] = {}
    html = {"text/html": {"schema": {"type": "string"}}}
    _add(paths, "/api", "get", {
        "operationId": "api_entry_point", "tags": ["api"], "security": [],
        "summary": "The entry point: API version, driver, provider and the collections it supports",
        "parameters": [{"name": "force_auth", "in": "query", "required": False, "allowEmptyValue": True,
                        "description": "Check the credentials (401 when wrong)", "schema": {"type": "string"}},
                       _format_param(("xml", "json", "html"))],
        "responses": {"200": {"description": "The entry point", "content": {
            "application/json": {"schema": _wrapped("api", "api")},
            "application/xml": {"schema": {"type": "string"}}, **html}},
            **_refs("400", "401", "403", "406", "500", "502", "504")}})
    used_resources["api"] = services.resources["api"]
    _add(paths, "/api", "post", {
        "operationId": "api_switch", "tags": ["api"], "security": [],
        "summary": "Switch driver or provider (the HTML switcher): 301 to the matrix URL",
        "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {
            "type": "object", "properties": {"driver": {"type": "string"}, "provider": {"type": "string"}}}}}},
        "responses": {"301": {"description": "Redirect to /api;driver=...;provider=...",
                              "headers": {"Location": {"schema": {"type": "string"}}}},
                      **_refs("400", "403", "406", "413")}})
    _add(paths, "/api", "options", _options_object("api_options", "api",
                                                   "The supported collections, in the Allow header", "/api"))
    for method, obj in list(paths["/api"].items()):  # /api/ answers like /api
        _add(paths, "/api/", method, {**obj, "operationId": f"{obj['operationId']}_slash",
                                      "summary": f"{obj['summary']} (trailing slash)"})
    for path, op_id, summary in DOC_ROUTES:
        params = [{"name": n, "in": "path", "required": True, "schema": {"type": "string"}} for n in path_params(path)]
        params.append(_format_param(("html", "xml", "json")))
        _add(paths, path, "get", _plain_get(op_id, "api", summary, {
            **html, "application/json": {"schema": {"type": "object"}},
            "application/xml": {"schema": {"type": "string"}}}, parameters=params, errors=("400", "404", "406")))
    if services.events is not None:  # the stream of changes (docs/events.md)
        events = _plain_get("api_events", "api", "Server-sent events: changes of instances, volumes, snapshots and "
                            "images for the caller's account (Accept: text/event-stream)",
                            {"text/event-stream": {"schema": {"type": "string"}}}, security=True, parameters=[
                                {"name": name, "in": "query", "required": False, "description": text,
                                 "schema": {"type": "string"}}
                                for name, text in _EVENT_PARAMS])
        events["responses"].update(_refs("400", "401", "403", "406", "429", "500", "501", "502", "503", "504"))
        _add(paths, "/api/events", "get", events)
    _add(paths, "/api/openapi.json", "get", _plain_get(
        "api_openapi", "api", "This document (OpenAPI 3.1) for the request's driver",
        {"application/json": {"schema": {"type": "object"}}}, errors=_PRELUDE_ERRORS))
    _add(paths, "/api/openapi", "get", _plain_get("api_openapi_page", "api",
                                                  "This document as a browsable page", html, errors=_PRELUDE_ERRORS))
    _add(paths, "/", "get", _plain_get("root_index", "server", "The server's front page", html))
    _add(paths, "/robots.txt", "get", _plain_get("robots_txt", "server", "Robots exclusion: everything",
                                                 {"text/plain": {"schema": {"type": "string"}}}))
    tags.append({"name": "server", "description": "Routes outside the API"})

    registry = services.collections
    ordered = sorted(registry, key=lambda c: c.parent is not None)
    for collection in ordered:
        ops = supported_operations(collection, driver_cls, registry)
        if not ops:
            continue
        base = collection_path(collection)
        tag = collection.parent or collection.name
        if not collection.parent:
            features = [f.name for f in services.features.for_collection(collection.name)
                        if driver_cls.has_feature(collection.name, f.name)]
            tag_obj: dict[str, Any] = {"name": tag, "description": collection.description}
            if features:
                tag_obj["x-deltacloud-features"] = features
            tags.append(tag_obj)
        for res in collection.resources:
            used_resources.setdefault(res.name, res)
        for form in collection.forms:
            _add(paths, base + form.path, "get", _form_object(collection, form))
        get_paths = {op.path for op in collection.operations if op.http_method == "GET"}
        for op in sorted(ops, key=lambda o: o.http_method != "HEAD"):
            _add(paths, base + op.path, op.http_method.lower(), _operation_object(services, collection, op, driver_cls))
            if op.http_method != "GET" and op.path not in get_paths and op.path != "":
                _add(paths, base + op.path, "head", _head_object(f"{collection.name}_{op.name}_head", tag,
                                                                 base + op.path))
        _add(paths, base, "options", _options_object(
            f"{collection.name}_options", tag, f"The HTTP methods of {collection.name}, in the Allow header", base))
        for op in ops:
            if op.name in STANDARD_OPERATIONS:
                path = f"{base}/{op.name}"
            elif op.member:
                path = base + op.path
            else:
                continue
            _add(paths, path, "options", _options_object(
                f"{collection.name}_{op.name}_options", tag,
                f"The parameters of {op.name}, as name:type:required|optional in the Allow header", path))

    schemas = {component_name(name): resource_schema(res) for name, res in sorted(used_resources.items())}
    schemas["Error"] = {"type": "object", "properties": {
        "code": {"type": "integer"}, "message": {"type": "string"}, "error": {"type": "string"},
        "backend_code": {"type": ["string", "integer"]}}, "required": ["code", "message"]}
    responses: dict[str, dict[str, Any]] = {
        f"E{code}": {"description": text, "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}},
            "application/xml": {"schema": {"type": "string"}}, "text/html": {"schema": {"type": "string"}}}}
        for code, text in _ERRORS.items()}
    responses["E406"] = {"description": _ERRORS["406"]}
    responses["E412"] = {"description": _ERRORS["412"], "headers": {"Expect": {"schema": {"type": "string"}}}}
    responses["E400"]["content"]["text/html"] = {"schema": {
        "type": "string", "description": "A missing required parameter is a plain text answer"}}

    description = (
        f"The Deltacloud API {API_VERSION} as driver **{driver_name}**"
        f"{f' (provider {provider})' if provider else ''} offers it: only the collections and operations "
        f"this driver supports, the parameters its features add, and hardware-profile bounds on the "
        f"instance-create overrides. Select another driver with the matrix parameter "
        f"(`/api;driver=NAME/openapi.json`) or the `X-Deltacloud-Driver` header. Every GET route also "
        f"answers HEAD. Answers come as XML, JSON or HTML (Accept header or `?format=`).")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Deltacloud API", "version": API_VERSION, "description": description,
                 "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
                 "x-deltacloud-driver": driver_name, **({"x-deltacloud-provider": provider} if provider else {})},
        "servers": [{"url": server_url}],
        "security": [{"basicAuth": []}],
        "tags": tags,
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "securitySchemes": {"basicAuth": {"type": "http", "scheme": "basic",
                                              "description": "The cloud's credentials, as the driver needs them"}},
        },
    }


#: The ``/api/docs`` routes (served by :mod:`.docs`): path, operationId, summary.
DOC_ROUTES: tuple[tuple[str, str, str], ...] = (
    ("/api/docs", "api_docs", "Documentation: the collections"),
    ("/api/docs/{collection}", "api_docs_collection", "Documentation of a collection"),
    ("/api/docs/{collection}/{operation}", "api_docs_operation", "Documentation of an operation"),
)
