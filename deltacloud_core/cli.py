"""``deltacloudd``: start the Deltacloud API server (uvicorn) on a driver.

The original's flags are kept (``-i`` driver, ``-r`` host, ``-p`` port, ``-P`` provider);
``--workers N`` runs N processes. Settings reach every worker through the original's
environment variables (``API_DRIVER``, ``API_PROVIDER``, ``API_USER``/``API_PASSWORD``),
which :meth:`deltacloud_core.web.Settings.from_env` reads in :func:`_app_factory`.

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
    parser.add_argument("--workers", type=_positive_int, default=1,
                        help="worker processes (default: %(default)s)")
    parser.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="default: %(default)s")
    parser.add_argument("--access-log", action="store_true",
                        help="log one line per request (method, path, status; never headers)")
    parser.add_argument("--list-drivers", action="store_true", help="print the installed driver ids and exit")
    parser.add_argument("--version", action="version", version="%(prog)s (Deltacloud API 1.1.3)")
    return parser


def _driver_chosen(argv: Sequence[str] | None) -> bool:
    """The driver was named (``-i``, ``--driver``, ``API_DRIVER``), not left at the default."""
    words = sys.argv[1:] if argv is None else list(argv)
    return bool(os.environ.get("API_DRIVER")) or any(
        w in ("-i", "--driver") or w.startswith(("--driver=", "-i")) for w in words)


def _installed(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _log_config(level: str) -> dict[str, Any]:
    """uvicorn's logging set-up plus the ``deltacloud.*`` loggers at ``level`` on the same handler."""
    from uvicorn.config import LOG_LEVELS, LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["deltacloud"] = {"handlers": ["default"], "level": LOG_LEVELS[level], "propagate": False}
    return config


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
    from .providers import setting_name

    for driver_id, pattern in args.allow_provider:
        name = setting_name(driver_id)
        os.environ[name] = " ".join(filter(None, (os.environ.get(name, ""), pattern)))

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
        log_config=_log_config(args.log_level),
        access_log=args.access_log,
        # The app sends its own Server (Apache-Deltacloud/1.1.3) and Date headers.
        server_header=False,
        date_header=False,
        proxy_headers=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
