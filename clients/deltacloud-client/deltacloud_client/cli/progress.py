"""Progress bars on stderr, shown only when stderr is a terminal (never in pipes or logs)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn, TransferSpeedColumn

__all__ = ["transfer_progress", "wait_progress"]


@contextmanager
def transfer_progress(console: Console, label: str) -> Iterator[Callable[[int, int | None], None] | None]:
    """A ``progress(done, total)`` callback drawing a bar, or None off a terminal."""
    if not console.is_terminal:
        yield None
        return
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn(),
                  TimeRemainingColumn(), console=console, transient=False) as bar:
        task = bar.add_task(label, total=None)

        def update(done: int, total: int | None) -> None:
            bar.update(task, completed=done, total=total)

        yield update


@contextmanager
def wait_progress(console: Console, instance_id: str, target: str, *,
                  quiet: bool) -> Iterator[Callable[[str | None], None]]:
    """A spinner while waiting for an instance; the callback shows the state seen."""
    if quiet or not console.is_terminal:
        yield lambda state: None
        return
    with console.status(f"{instance_id}: waiting for {target.upper()}") as status:
        def show(state: str | None) -> None:
            status.update(f"{instance_id} is {state or '?'}: waiting for {target.upper()}")

        yield show
