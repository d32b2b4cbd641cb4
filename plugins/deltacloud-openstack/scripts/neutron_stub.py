"""A stand-in for the few Neutron calls Nova makes when servers boot with ``networks="none"``.

Not Neutron: every list is empty, everything else is 404. Run by openstack-up.sh on Debian's
python: ``neutron_stub.py PORT``.
"""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

#: Collection path segment -> JSON key of its (empty) list.
EMPTY = {"ports": "ports", "networks": "networks", "security-groups": "security_groups",
         "floatingips": "floatingips", "subnets": "subnets", "extensions": "extensions", "routers": "routers",
         "security-group-rules": "security_group_rules", "availability_zones": "availability_zones"}
NOT_FOUND = {"NeutronError": {"type": "NotFound", "message": "not served by the test cloud's neutron stub",
                              "detail": ""}}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: object) -> None:
        sys.stderr.write(f"neutron-stub {self.command} {self.path}\n")

    def reply(self, code: int, obj: object) -> None:
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def drain(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)

    def do_GET(self) -> None:
        path = self.path.split("?")[0].rstrip("/")
        if path in ("", "/v2.0"):
            self.reply(200, {"versions": [{"id": "v2.0", "status": "CURRENT",
                                           "links": [{"rel": "self", "href": "http://127.0.0.1:9696/v2.0/"}]}]})
            return
        resource = path.split("/")[-1].replace(".json", "")
        if resource in EMPTY:
            self.reply(200, {EMPTY[resource]: []})
            return
        self.reply(404, NOT_FOUND)

    def do_PUT(self) -> None:
        self.drain()
        self.reply(404, NOT_FOUND)

    do_POST = do_DELETE = do_PUT


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 9696), Handler).serve_forever()
