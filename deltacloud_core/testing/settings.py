"""What a driver author may tune in the conformance kit, and where the values come from.

Precedence, lowest first: the defaults below, the test class's ``settings`` attribute,
``[tool.pytest.ini_options]`` (``deltacloud_examples = 25`` ...), then the command line
(``--deltacloud-examples 25`` ...). Stdlib only: the pytest plugin reads it at startup.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LIVE_ENV", "LIVE_MARKER", "OPTIONS", "ConformanceSettings", "Option", "overrides_from_config"]

#: Marker of tests that talk to a real cloud; they run only with ``--deltacloud-live``.
LIVE_MARKER = "deltacloud_live"
#: Environment switch equivalent to ``--deltacloud-live`` (``DELTACLOUD_LIVE=1``).
LIVE_ENV = "DELTACLOUD_LIVE"


@dataclass(frozen=True)
class ConformanceSettings:
    """Knobs of the conformance kit. Immutable; derive variants with :meth:`replace`."""

    #: Hypothesis examples (independent runs) per stateful lifecycle test.
    max_examples: int = 10
    #: Steps (rules) per example of a stateful lifecycle test.
    stateful_steps: int = 16
    #: Seconds one operation (one driver call, one HTTP request) may take before it fails.
    step_timeout: float = 30.0
    #: Seconds to wait for an instance to leave a transient state (``PENDING``, ``STOPPING``).
    settle_timeout: float = 120.0
    #: Seconds between two looks at an instance that is still in a transient state.
    poll_interval: float = 0.5
    #: Instances a lifecycle example keeps alive at once.
    max_instances: int = 2
    #: Buckets a lifecycle example keeps alive at once.
    max_buckets: int = 2
    #: Largest blob (bytes) the bucket lifecycle writes.
    max_blob_size: int = 2048
    #: Members of each collection shown one by one by the show checks.
    sample_size: int = 5
    #: Parameters for ``POST /api/instances`` (``image_id``, ``hwp_id``, ``realm_id``, extras);
    #: without ``image_id`` the first listed image is used.
    instance_params: Mapping[str, str] = field(default_factory=dict)
    #: Run tests marked ``deltacloud_live`` (they talk to a real cloud and may cost money).
    live: bool = False

    def replace(self, **changes: Any) -> ConformanceSettings:
        """A copy with ``changes`` applied (unknown names raise TypeError)."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class Option:
    """One setting exposed as a command-line option and an ini key."""

    field: str
    flag: str
    ini: str
    type: type
    help: str

    @property
    def dest(self) -> str:
        """Attribute name of the parsed command-line value."""
        return f"deltacloud_{self.field}"


OPTIONS: tuple[Option, ...] = (
    Option("max_examples", "--deltacloud-examples", "deltacloud_examples", int,
           "hypothesis examples per stateful lifecycle test"),
    Option("stateful_steps", "--deltacloud-steps", "deltacloud_steps", int,
           "steps per example of a stateful lifecycle test"),
    Option("step_timeout", "--deltacloud-step-timeout", "deltacloud_step_timeout", float,
           "seconds one driver call or HTTP request may take (slow backends want more)"),
    Option("settle_timeout", "--deltacloud-settle-timeout", "deltacloud_settle_timeout", float,
           "seconds to wait for an instance to leave PENDING/STOPPING"),
)


def _truthy(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def overrides_from_config(config: Any) -> dict[str, Any]:
    """Settings given in the ini file or on the command line (``config`` is pytest's)."""
    out: dict[str, Any] = {}
    for opt in OPTIONS:
        raw = config.getini(opt.ini)
        if raw not in (None, "", []):
            out[opt.field] = opt.type(raw)
        cli = config.getoption(opt.dest, default=None)
        if cli is not None:
            out[opt.field] = opt.type(cli)
    if (_truthy(config.getini("deltacloud_live")) or config.getoption("deltacloud_live", default=False)
            or _truthy(os.environ.get(LIVE_ENV, ""))):
        out["live"] = True
    return out
