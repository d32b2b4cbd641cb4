"""``GET /api/events``: the hub's streams over HTTP (``text/event-stream``), and how the entry
point links them (a ``Link: <.../api/events>; rel="events"`` header: the documents of the entry
point stay byte for byte what the original's clients know).

Query parameters: ``collection`` (comma-separated; default every watchable collection the driver
offers), ``id``, ``state``; ``Last-Event-ID`` (header, or the ``last_event_id`` parameter) resumes.
Errors before the stream starts are Deltacloud error documents with the usual statuses.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from ..collections.base import Outcome
from ..drivers.base import Driver
from ..errors import AuthenticationRequired, DeltacloudError, NotAcceptable, NotSupportedError, ValidationError
from ..events import WATCHABLE, EventFilter
from ..events.sse import frame
from ..events.subscriber import Subscription
from ..hookspecs import hookimpl
from .context import RequestContext, request_context, request_credentials
from .pipeline import check_provider
from .renderers import RenderEnv, RendererRegistry
from .services import Services

__all__ = ["EVENT_STREAM", "EventStreamRenderer", "EventsEndpoint", "events_link"]

EVENT_STREAM = "event-stream"


class EventStreamRenderer:
    """Makes ``Accept: text/event-stream`` a format the prelude accepts; only ``/api/events``
    answers in it (every other route still answers 406 to it alone)."""

    name: str = EVENT_STREAM
    media_types: tuple[str, ...] = ("text/event-stream",)
    content_type: str = "text/event-stream"
    #: Renders no document: only ``/api/events`` answers in it.
    documents: bool = False

    def render(self, outcome: Outcome, env: RenderEnv) -> bytes:
        raise NotAcceptable()

    def render_error(self, error: DeltacloudError, env: RenderEnv) -> bytes:
        return frame(None, "error", f'{{"status":{error.status}}}')


@hookimpl
def deltacloud_register_renderers(registry: RendererRegistry) -> None:
    registry.register(EventStreamRenderer(), owner=__name__)


def watchable_collections(services: Services, driver_cls: type[Driver]) -> list[str]:
    """The collections events cover that ``driver_cls`` offers, instances first (from the
    services' memo of what each driver class supports: the entry point asks on every request)."""
    supported = services.supported_collections(driver_cls)
    return [name for name in WATCHABLE if name in supported]


def events_link(services: Services, context: RequestContext, driver_cls: type[Driver]) -> dict[str, str]:
    """The entry point's ``Link`` header, when this server serves events for the driver."""
    if services.events is None or not watchable_collections(services, driver_cls):
        return {}
    return {"Link": f'<{context.api_url}/events>; rel="events"'}


class _EventStreamResponse(StreamingResponse):
    """A streaming answer that lets go of its subscription however it ends (even unstarted)."""

    def __init__(self, subscription: Subscription, api_url: str) -> None:
        super().__init__(subscription.frames(api_url), media_type="text/event-stream",
                         headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self.subscription = subscription

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.subscription.close()


class EventsEndpoint:
    """The endpoint of ``GET /api/events`` (:meth:`endpoint`)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def endpoint(self, request: Request) -> Response:
        services = self.services
        context = request_context(request)
        env = services.render_env(context, "/api/events")
        try:
            subscription = await self._subscribe(request, context)
        except DeltacloudError as exc:
            return services.responses.error(exc, context.error_format, env, method=request.method)
        response = _EventStreamResponse(subscription, context.api_url)
        services.responses.decorate(response, driver=context.driver_name, provider=context.provider)
        return response

    async def _subscribe(self, request: Request, context: RequestContext) -> Subscription:
        services = self.services
        hub = services.events
        assert hub is not None  # the route exists only with events on
        if EVENT_STREAM not in context.ranked:
            raise NotAcceptable()
        driver_cls = services.load_driver(context)
        await check_provider(services, driver_cls, context.provider)
        event_filter = self._filter(context, driver_cls)
        credentials = request_credentials(request, services.settings.server_credentials)
        if credentials is None:
            raise AuthenticationRequired()
        last_event_id = request.headers.get("last-event-id") or context.query_dict().get("last_event_id") or None
        allowed = services.providers.allowed_for(driver_cls.driver_id)
        machine = services.machines.for_driver(driver_cls)

        def prepare(driver: Driver) -> None:
            driver.state_machine = machine
            driver.allowed_providers = allowed

        return await hub.subscribe(driver_cls, context.provider, credentials, event_filter,
                                   last_event_id.strip() if last_event_id else None, prepare)

    endpoint.direct = True  # type: ignore[attr-defined]  # answers every error itself (see dispatch)

    def _filter(self, context: RequestContext, driver_cls: type[Driver]) -> EventFilter:
        query = context.query_dict()
        offered = watchable_collections(self.services, driver_cls)
        if not offered:
            raise NotSupportedError(f"Driver '{driver_cls.driver_id}' offers none of the collections events "
                                    f"cover ({', '.join(WATCHABLE)}).")
        wanted = [c.strip() for c in query.get("collection", "").split(",") if c.strip()]
        for name in wanted:
            if name not in WATCHABLE:
                raise ValidationError(f"Events cover the collections {', '.join(WATCHABLE)}, not '{name}'.")
            if name not in offered:
                raise ValidationError(f"Driver '{driver_cls.driver_id}' offers no {name}; its events cover "
                                      f"{', '.join(offered)}.")
        return EventFilter(frozenset(wanted or offered), id=query.get("id") or None,
                           state=(query.get("state") or "").strip().upper() or None)
