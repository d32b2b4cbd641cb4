"""``deltacloudd``: start the Deltacloud API server (uvicorn) on a driver.

The original's flags are kept (``-i`` driver, ``-r`` host, ``-p`` port, ``-P`` provider);
``--workers N`` runs N processes. Settings reach every worker through the original's
environment variables (``API_DRIVER``, ``API_PROVIDER``, ``API_USER``/``API_PASSWORD``),
which :meth:`deltacloud_core.web.Settings.from_env` reads in :func:`_app_factory`.

Exit status: 0 after ``--list-drivers`` or a clean shutdown, 2 for bad arguments or an
unknown driver (with the ``pip install deltacloud-<name>`` hint).
"""

from __future__ import annotations

import argparse
import copy
import importlib.util
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .web import DeltacloudApp

__all__ = ["build_parser", "main"]

LOG_LEVELS = ("critical", "error", "warning", "info", "debug", "trace")


def _app_factory() -> DeltacloudApp:
    """The ASGI app of one worker, configured from the environment ``main`` prepared."""
    from .web import Settings, create_app

    return create_app(Settings.from_env())


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {value}")
    return value


def _port(text: str) -> int:
    value = _positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port: {value}")
    return value


def _provider_pattern(text: str) -> tuple[str, str]:
    driver, sep, pattern = text.partition("=")
    if not sep or not driver.strip() or not pattern.strip() or any(c.isspace() for c in pattern.strip()):
        raise argparse.ArgumentTypeError(f"expected DRIVER=PATTERN without spaces, e.g. ec2=eu-west-*: {text!r}")
    return driver.strip().lower(), pattern.strip()


def _bulkhead_rule(text: str) -> str:
    from .backends.bulkheads import parse_rules

    try:
        parse_rules(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


def build_parser() -> argparse.ArgumentParser:
    env = os.environ
    parser = argparse.ArgumentParser(
        prog="deltacloudd",
        description="Start the Deltacloud API server (Deltacloud API 1.1.3) in front of one default driver.",
        epilog="Server-side credentials: set API_USER and API_PASSWORD. Mock data: DELTACLOUD_MOCK_STORAGE.")
    parser.add_argument("-i", "--driver", default=(env.get("API_DRIVER") or "mock").strip().lower(),
                        help="default driver (API_DRIVER; default: %(default)s)")
    parser.add_argument("-P", "--provider", default=env.get("API_PROVIDER") or None,
                        help="default provider of the driver, e.g. a region (API_PROVIDER)")
    parser.add_argument("-r", "--host", default=env.get("API_HOST") or "127.0.0.1",
                        help="address to listen on (API_HOST; default: %(default)s)")
    parser.add_argument("-p", "--port", type=_port, default=env.get("API_PORT") or "3001",
                        help="port to listen on (API_PORT; default: %(default)s)")
    parser.add_argument("--allow-provider", action="append", default=[], metavar="DRIVER=PATTERN",
                        type=_provider_pattern,
                        help="a provider clients may choose for DRIVER (a glob, * for any; repeatable); "
                             "adds to DELTACLOUD_PROVIDERS_<DRIVER>")
    parser.add_argument("--bulkhead", action="append", default=[], metavar="DRIVER[/PROVIDER]=N", type=_bulkhead_rule,
                        help="the share of concurrent backend calls of DRIVER (and providers matching the glob "
                             "PROVIDER); repeatable, adds to DELTACLOUD_BULKHEADS (default share: "
                             "DELTACLOUD_BULKHEAD_LIMIT, 512)")
    parser.add_argument("--metrics-port", type=_port, default=env.get("DELTACLOUD_METRICS_PORT") or None,
                        help="serve Prometheus metrics on this port (DELTACLOUD_METRICS_PORT; off by default)")
    parser.add_argument("--metrics-host", default=env.get("DELTACLOUD_METRICS_HOST") or "127.0.0.1",
                        help="address of the metrics port (default: %(default)s)")
    parser.add_argument("--metrics-path", default=env.get("DELTACLOUD_METRICS_PATH") or None, metavar="PATH",
                        help="also serve the metrics on the API's own port at PATH, e.g. /metrics "
                             "(DELTACLOUD_METRICS_PATH; anyone who reaches the API reads them)")
    parser.add_argument("--log-format", choices=("text", "json"),
                        default=(env.get("DELTACLOUD_LOG_FORMAT") or "text").strip().lower(),
                        help="json: one JSON object per log line, with the request id (default: %(default)s)")
    parser.add_argument("--workers", type=_positive_int, default=1,
                        help="worker processes (default: %(default)s)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="default: %(default)s")
    parser.add_argument("--access-log", action="store_true",
                        help="log one line per request (method, path, status; never headers)")
    parser.add_argument("--list-drivers", action="store_true", help="print the installed driver ids and exit")
    parser.add_argument("--version", action="version", version="%(prog)s (Deltacloud API 1.1.3)")
    return parser


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _log_config(level: str, log_format: str = "text") -> dict[str, Any]:
    """uvicorn's logging set-up plus the ``deltacloud.*`` loggers at ``level`` on the same handler;
    with ``json``, every line a JSON object with the request id."""
    from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["deltacloud"] = {"handlers": ["default"], "level": LOG_LEVELS[level], "propagate": False}
    if log_format == "json":
        module = "deltacloud_core.observability.json_logs"
        config["formatters"]["json"] = {"()": f"{module}.JsonFormatter"}
        config.setdefault("filters", {})["request_id"] = {"()": f"{module}.RequestIdFilter"}
        for handler in config["handlers"].values():
            handler["formatter"] = "json"
            handler["filters"] = ["request_id"]
    return config


def _start_metrics(args: argparse.Namespace) -> None:
    """The Prometheus exporter on its own port, in this process: with one worker uvicorn serves
    the app here too; with several, each worker writes to ``PROMETHEUS_MULTIPROC_DIR`` and this
    process sums them."""
    import atexit
    import shutil
    import tempfile

    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        directory = tempfile.mkdtemp(prefix="deltacloud-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        atexit.register(shutil.rmtree, directory, True)
    from prometheus_client import REGISTRY, CollectorRegistry, start_http_server

    registry = REGISTRY
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    start_http_server(args.metrics_port, addr=args.metrics_host, registry=registry)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)

    from .drivers.registry import DriverRegistry, UnknownDriver
    from .plugins import blocked_names

    registry = DriverRegistry(blocked=blocked_names())
    if args.list_drivers:
        for name in registry.names():
            print(name)
        return 0

    driver = str(args.driver).strip().lower()
    try:
        registry.load(driver)
    except UnknownDriver as exc:
        installed = ", ".join(registry.names()) or "none"
        print(f"deltacloudd: error: {exc.message} Installed drivers: {installed}.", file=sys.stderr)
        return 2

    # Workers are separate processes: hand them the settings through the environment.
    os.environ["API_DRIVER"] = driver
    if args.provider:
        os.environ["API_PROVIDER"] = args.provider
    else:
        os.environ.pop("API_PROVIDER", None)
    from .providers import setting_name

    for driver_id, pattern in args.allow_provider:
        name = setting_name(driver_id)
        os.environ[name] = " ".join(filter(None, (os.environ.get(name, ""), pattern)))

    if args.bulkhead:
        os.environ["DELTACLOUD_BULKHEADS"] = " ".join(
            filter(None, (os.environ.get("DELTACLOUD_BULKHEADS", ""), *args.bulkhead)))
    if args.metrics_port or args.metrics_path:
        os.environ["DELTACLOUD_METRICS"] = "1"
    if args.metrics_path:
        os.environ["DELTACLOUD_METRICS_PATH"] = args.metrics_path
    os.environ["DELTACLOUD_LOG_FORMAT"] = args.log_format
    # In JSON mode the server's own access log (with request ids) replaces uvicorn's.
    own_access_log = args.access_log and args.log_format == "json"
    if own_access_log:
        os.environ["DELTACLOUD_ACCESS_LOG"] = "1"
    if args.metrics_port:
        try:
            _start_metrics(args)
        except OSError as exc:
            print(f"deltacloudd: error: cannot serve metrics on {args.metrics_host}:{args.metrics_port}: {exc}",
                  file=sys.stderr)
            return 2

    import uvicorn

    uvicorn.run(
        "deltacloud_core.cli:_app_factory",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        loop="uvloop" if _installed("uvloop") else "auto",
        http="httptools" if _installed("httptools") else "auto",
        log_level=args.log_level,
        log_config=_log_config(args.log_level, args.log_format),
        access_log=args.access_log and not own_access_log,
        # The app sends its own Server (Apache-Deltacloud/1.1.3) and Date headers.
        server_header=False,
        date_header=False,
        proxy_headers=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
