"""Pure parsers with no server: the event-stream reader and the entry point's extension headers.
(The SSE transport path itself needs a server with ``/api/events``, issue 15; see the README.)"""

from __future__ import annotations

from deltacloud_client.discovery import EntryPoint, parse_link_header
from deltacloud_client.sse import EventParser

API = {"api": {"version": "1.1.3", "driver": "mock", "provider": "default",
               "links": [{"rel": "instances", "href": "http://h/api/instances", "features": []}]}}


def test_event_stream_lines():
    parser = EventParser()
    lines = [": heartbeat", "", "id: 7", "event: state", 'data: {"id": "inst1",', 'data: "to": "STOPPED"}', "",
             "retry: 2500", "data: plain", ""]
    events = [e for e in (parser.feed(line) for line in lines) if e is not None]
    assert [(e.event, e.id) for e in events] == [("state", "7"), ("message", "7")]
    assert events[0].data == '{"id": "inst1",\n"to": "STOPPED"}'
    assert parser.last_id == "7" and parser.retry_ms == 2500


def test_link_header():
    value = '<http://h/api/events>; rel="events", <http://h/docs/idem>; rel="idempotency-key other"'
    assert parse_link_header(value) == {"events": "http://h/api/events", "idempotency-key": "http://h/docs/idem",
                                        "other": "http://h/docs/idem"}


def test_extensions_are_read_only_where_old_clients_do_not_look():
    plain = EntryPoint.from_json(API, {})
    assert (plain.events_url, plain.idempotency, plain.provider) == (None, False, None)
    linked = EntryPoint.from_json(API, {"link": '<http://h/api/events>; rel="events"',
                                        "x-deltacloud-idempotency": "supported"})
    assert (linked.events_url, linked.idempotency) == ("http://h/api/events", True)
    in_body = {"api": {**API["api"], "links": [*API["api"]["links"], {"rel": "events", "href": "http://h/ev"}]}}
    found = EntryPoint.from_json(in_body, {})
    assert found.events_url == "http://h/ev" and "events" not in found.collections
