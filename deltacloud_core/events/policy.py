"""When a watcher polls next: adaptive, bounded both ways, honouring the backend's throttling."""

from __future__ import annotations

from collections.abc import Iterable

from ..state_machine import StateMachine

__all__ = ["PollPolicy", "transitional_states"]

#: States that move on by themselves in most clouds, whatever the driver's machine says.
_ALWAYS_TRANSITIONAL = frozenset({"PENDING", "STARTING", "STOPPING", "SHUTTING_DOWN", "SHUTTING-DOWN", "REBOOTING",
                                  "CREATING", "DELETING", "ATTACHING", "DETACHING", "BUILD", "RESIZE"})


def transitional_states(machine: StateMachine | None) -> frozenset[str]:
    """States a resource leaves on its own: those the machine leaves automatically, plus the
    common in-between states of the clouds (``PENDING``, ``STOPPING`` ...), upper case."""
    names = set(_ALWAYS_TRANSITIONAL)
    if machine is not None:
        for transition in machine.transitions:
            if transition.auto or transition.action is None:
                names.add(transition.source.upper())
    return frozenset(names)


class PollPolicy:
    """The pause before the next poll.

    ``poll_min`` while something is transitional or just changed; then doubling on each quiet
    poll up to ``poll_max``; after a failure doubling too, and at least the ``Retry-After`` a
    throttling backend asked for (at most ten times ``poll_max``). Collections a driver
    announces itself are polled every ``poll_max`` only, as a safety net.
    """

    def __init__(self, poll_min: float, poll_max: float) -> None:
        self.poll_min = poll_min
        self.poll_max = poll_max
        self.current = poll_min

    def after_poll(self, *, changed: bool, transitional: bool, announced: bool) -> float:
        if announced and not transitional:
            self.current = self.poll_max
        elif changed or transitional:
            self.current = self.poll_min
        else:
            self.current = min(self.current * 2, self.poll_max)
        return self.current

    def after_failure(self, retry_after: float | None) -> float:
        self.current = min(max(self.current * 2, self.poll_min), self.poll_max)
        if retry_after is not None:
            return min(max(retry_after, self.current), self.poll_max * 10)
        return self.current

    @staticmethod
    def any_transitional(states: Iterable[str | None], transitional: frozenset[str]) -> bool:
        return any(s is not None and s.upper() in transitional for s in states)
