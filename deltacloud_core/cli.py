"""``deltacloudd``: start the Deltacloud API server (uvicorn) on a driver.

The original's flags are kept (``-i`` driver, ``-r`` host, ``-p`` port, ``-P`` provider);
``--workers N`` runs N processes. Settings reach every worker through the original's
environment variables (``API_DRIVER``, ``API_PROVIDER``, ``API_USER``/``API_PASSWORD``),
which :meth:`deltacloud_core.web.Settings.from_env` reads in :func:`_app_factory`.

The server below the app is built here too: uvicorn with the limits of
:mod:`deltacloud_core.serving.limits` (head size and count, head and body timeouts; flags or
``DELTACLOUD_MAX_HEAD_BYTES`` ...), the access log's safe line, TLS when given a certificate, and in
every worker the guard on outgoing connections (:mod:`deltacloud_core.serving.connect_guard`).

Exit status: 0 after ``--list-drivers`` or a clean shutdown, 2 for bad arguments or an
unknown driver (naming the installed ones, with the ``pip install deltacloud-<name>`` hint); with
no driver installed at all (the core alone), ``--list-drivers`` exits 1 and the server 2, both
saying how to install one.
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

#: What to do when no driver is installed at all (the core alone).
NO_DRIVER = (
    "no Deltacloud driver is installed in this environment ({python}). deltacloudd serves clouds through "
    "drivers, each a distribution of its own (deltacloud-<name>) found through the 'deltacloud.drivers' "
    "entry-point group. Install one into this environment, e.g. the mock driver: from a checkout of the "
    "repository 'pip install plugins/deltacloud-mock', or from the wheels 'make dist' builds "
    "'pip install dist/deltacloud_mock-*.whl'; or write your own (docs/writing-a-driver.md in the repository).")


#: The HTTP protocol: uvicorn's httptools one with the limits (see ``serving.protocol``).
HTTP_PROTOCOL = "deltacloud_core.serving.protocol:LimitedHttpToolsProtocol"
#: The TLS key's password, read from the environment only (never a command line others can read).
KEY_PASSWORD_ENV = "DELTACLOUD_SSL_KEYFILE_PASSWORD"


def _app_factory() -> DeltacloudApp:
    """The ASGI app of one worker, configured from the environment ``main`` prepared; the worker's
    outgoing connections are guarded from here on."""
    from .serving.connect_guard import install
    from .web import Settings, create_app

    settings = Settings.from_env()
    install(settings.provider_policy())
    return create_app(settings)


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


def _positive_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0: {value}")
    return value


def _network(text: str) -> str:
    from .providers import parse_networks

    try:
        parse_networks(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text.strip()


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
    parser.add_argument("--redis", metavar="URL", default=env.get("DELTACLOUD_REDIS_URL") or None,
                        help="Redis shared by every worker and host, e.g. redis://127.0.0.1:6379/0 "
                             "(DELTACLOUD_REDIS_URL; without it, event watchers stay in each process)")
    parser.add_argument("--deny-address", action="append", default=[], metavar="CIDR", type=_network,
                        help="a network no unlisted provider may reach, besides link-local and metadata ones "
                             "(e.g. 10.0.0.0/8; repeatable); adds to DELTACLOUD_DENY_ADDRESSES")
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
    _add_limits(parser, env)
    tls = parser.add_argument_group("TLS", f"serve HTTPS (the key's password, if any, in {KEY_PASSWORD_ENV})")
    tls.add_argument("--ssl-certfile", metavar="PEM", help="the server's certificate (chain), PEM")
    tls.add_argument("--ssl-keyfile", metavar="PEM", help="its private key, PEM (default: in --ssl-certfile)")
    tls.add_argument("--ssl-ca-certs", metavar="PEM",
                     help="require client certificates signed by these CAs (mutual TLS)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="default: %(default)s")
    parser.add_argument("--access-log", action="store_true",
                        help="log one line per request (client, method, path, status; control characters "
                             "escaped, secret-looking parameters filtered; never headers)")
    parser.add_argument("--list-drivers", action="store_true", help="print the installed driver ids and exit")
    parser.add_argument("--version", action="version", version="%(prog)s (Deltacloud API 1.1.3)")
    return parser


def _driver_chosen(argv: Sequence[str] | None) -> bool:
    """The driver was named (``-i``, ``--driver``, ``API_DRIVER``), not left at the default."""
    words = sys.argv[1:] if argv is None else list(argv)
    return bool(os.environ.get("API_DRIVER")) or any(
        w in ("-i", "--driver") or w.startswith(("--driver=", "-i")) for w in words)


def _add_limits(parser: argparse.ArgumentParser, env: Any) -> None:
    from .serving.limits import ENV, Limits

    defaults = Limits()
    group = parser.add_argument_group("limits", "what one client may cost the server (see docs/running.md)")
    group.add_argument("--max-head-bytes", type=_positive_int, metavar="BYTES",
                       default=env.get(ENV["max_head_bytes"]) or defaults.max_head_bytes,
                       help="largest request line plus headers: 431 beyond, 414 for the target alone "
                            f"({ENV['max_head_bytes']}; default: %(default)s)")
    group.add_argument("--max-headers", type=_positive_int, metavar="N",
                       default=env.get(ENV["max_headers"]) or defaults.max_headers,
                       help=f"most header fields in a request: 431 beyond ({ENV['max_headers']}; default: %(default)s)")
    group.add_argument("--head-timeout", type=_positive_number, metavar="SECONDS",
                       default=env.get(ENV["head_timeout"]) or defaults.head_timeout,
                       help="time to send a request head: then 408, closed "
                            f"({ENV['head_timeout']}; default: %(default)s)")
    group.add_argument("--body-timeout", type=_positive_number, metavar="SECONDS",
                       default=env.get(ENV["body_timeout"]) or defaults.body_timeout,
                       help="longest pause in a request body: then 408, closed "
                            f"({ENV['body_timeout']}; default: %(default)s)")
    group.add_argument("--limit-concurrency", type=_positive_int, metavar="N", default=None,
                       help="most connections and requests at once per worker: 503 beyond (default: no limit)")
    group.add_argument("--timeout-keep-alive", type=_positive_number, metavar="SECONDS", default=5.0,
                       help="an idle keep-alive connection is closed after this (default: %(default)s)")


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _log_config(level: str, log_format: str = "text") -> dict[str, Any]:
    """uvicorn's logging set-up plus the ``deltacloud.*`` loggers at ``level`` on the same handler;
    with ``json``, every line a JSON object with the request id."""
    from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"]["()"] = "deltacloud_core.serving.access_log.AccessFormatter"
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
    installed = registry.names()
    if not installed:
        print(f"deltacloudd: error: {NO_DRIVER.format(python=sys.executable)}", file=sys.stderr)
        return 1 if args.list_drivers else 2
    if args.list_drivers:
        for name in installed:
            print(name)
        return 0

    driver = str(args.driver).strip().lower()
    try:
        registry.load(driver)
    except UnknownDriver as exc:
        chosen = "" if _driver_chosen(argv) else f" ('{driver}' is the default driver.)"
        print(f"deltacloudd: error: {exc.message}{chosen} Installed drivers: {', '.join(installed)}; "
              "choose one with -i <driver> (or API_DRIVER).", file=sys.stderr)
        return 2

    # Workers are separate processes: hand them the settings through the environment.
    os.environ["API_DRIVER"] = driver
    if args.provider:
        os.environ["API_PROVIDER"] = args.provider
    else:
        os.environ.pop("API_PROVIDER", None)
    if args.redis:
        os.environ["DELTACLOUD_REDIS_URL"] = args.redis
    from .providers import setting_name

    for driver_id, pattern in args.allow_provider:
        name = setting_name(driver_id)
        os.environ[name] = " ".join(filter(None, (os.environ.get(name, ""), pattern)))
    from .providers import DENY_SETTING, parse_networks

    os.environ[DENY_SETTING] = " ".join(filter(None, (os.environ.get(DENY_SETTING, ""), *args.deny_address)))
    try:
        parse_networks(os.environ[DENY_SETTING])
    except ValueError as exc:
        print(f"deltacloudd: error: {DENY_SETTING}: {exc}", file=sys.stderr)
        return 2
    from .serving.limits import Limits

    limits = Limits(max_head_bytes=int(args.max_head_bytes), max_headers=int(args.max_headers),
                    head_timeout=float(args.head_timeout), body_timeout=float(args.body_timeout))
    os.environ.update(limits.to_env())
    if args.ssl_keyfile and not args.ssl_certfile:
        print("deltacloudd: error: --ssl-keyfile needs --ssl-certfile", file=sys.stderr)
        return 2

    import ssl

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
        http=HTTP_PROTOCOL,
        log_level=args.log_level,
        log_config=_log_config(args.log_level, args.log_format),
        access_log=args.access_log and not own_access_log,
        # The app sends its own Server (Apache-Deltacloud/1.1.3) and Date headers.
        server_header=False,
        date_header=False,
        proxy_headers=True,
        limit_concurrency=args.limit_concurrency,
        timeout_keep_alive=args.timeout_keep_alive,
        ssl_certfile=args.ssl_certfile,
        ssl_keyfile=args.ssl_keyfile,
        ssl_keyfile_password=os.environ.get(KEY_PASSWORD_ENV) or None,
        ssl_ca_certs=args.ssl_ca_certs,
        ssl_cert_reqs=ssl.CERT_REQUIRED if args.ssl_ca_certs else ssl.CERT_NONE,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
