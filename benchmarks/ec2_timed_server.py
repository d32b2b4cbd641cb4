"""The server as ``deltacloudd -i ec2`` runs it, for ``ec2_overhead.py``: each answer also says how
long its own ``describe_instances`` took inside the server.

``ec2_overhead.py`` starts it as its own process (uvicorn with deltacloudd's settings)::

    API_DRIVER=ec2 AWS_ENDPOINT_URL=http://127.0.0.1:PORT .venv/bin/python -m uvicorn \\
        benchmarks.ec2_timed_server:create_app --factory --loop uvloop --http httptools ...

Every ec2 client the driver builds gets an ``ec2_overhead.BotoTimer`` (botocore handlers on the
first and the last event of a call); an ASGI wrapper adds the duration of the
last ``DescribeInstances`` as ``X-Bench-Boto-Seconds``. The client subtracts it from the latency
it sees: what is left is what the server adds. Only this benchmark uses it; the product has no
such header.
"""

from __future__ import annotations

from typing import Any

from benchmarks.ec2_overhead import BotoTimer

#: The timer of the ec2 client the server built last (the benchmark uses one account).
_timers: list[BotoTimer] = []


def _instrument_clients() -> None:
    from deltacloud_ec2 import clients

    build = clients.build_client

    def timed_build_client(service: str, target: Any, credentials: Any) -> Any:
        client = build(service, target, credentials)
        if service == "ec2":
            _timers.append(BotoTimer(client.raw))
        return client

    clients.build_client = timed_build_client  # AwsDriverBase.client looks the name up per build


def create_app() -> Any:
    from deltacloud_core.web import Settings
    from deltacloud_core.web import create_app as create_deltacloud_app

    _instrument_clients()
    app = create_deltacloud_app(Settings.from_env())

    async def timed(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_timing(message: dict) -> None:
            if message["type"] == "http.response.start":
                last = _timers[-1].last if _timers else 0.0
                timing = (b"x-bench-boto-seconds", f"{last:.9f}".encode())
                message = {**message, "headers": [*message.get("headers", ()), timing]}
            await send(message)

        await app(scope, receive, send_with_timing)

    return timed
