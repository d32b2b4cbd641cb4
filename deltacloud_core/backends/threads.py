"""Worker threads for plain ``def`` driver methods: as many as there are calls in flight, idle ones
reused, and an idle thread ends after ``idle_timeout`` seconds.

The pool itself has no small bound: the bulkheads (:mod:`.bulkheads`) bound how many calls each
(driver, provider) may have in flight, so a stalled backend holds at most its own share of
threads and never the threads another backend needs (the old shared pool of 64 did). ``max_threads``
is only a last guard of the process.

A call is handed over as a plain function; the result goes back to the event loop in one
``call_soon_threadsafe`` (the cheapest hop there is, no ``concurrent.futures.Future``).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable

__all__ = ["ElasticThreads"]

Work = Callable[[], None]


class ElasticThreads:
    """A thread pool that grows with the calls in flight and shrinks when idle."""

    def __init__(self, *, idle_timeout: float = 30.0, max_threads: int = 4096,
                 name: str = "deltacloud-driver") -> None:
        self.idle_timeout = idle_timeout
        self.max_threads = max_threads
        self.name = name
        self._work: queue.SimpleQueue[Work] = queue.SimpleQueue()
        #: One token per idle thread waiting for work (as ``ThreadPoolExecutor`` counts them).
        self._idle = threading.Semaphore(0)
        self._lock = threading.Lock()
        self._threads = 0
        self._serial = 0

    @property
    def threads(self) -> int:
        """Threads alive now (busy or idle)."""
        return self._threads

    def submit(self, work: Work) -> None:
        """Run ``work()`` in a thread: an idle one, else a new one (up to ``max_threads``, after
        which the work waits for the next thread that frees up)."""
        if not self._idle.acquire(blocking=False):
            with self._lock:
                if self._threads < self.max_threads:
                    self._threads += 1
                    self._serial += 1
                    thread = threading.Thread(target=self._worker, name=f"{self.name}-{self._serial}", daemon=True)
                    thread.start()
        self._work.put(work)

    def _worker(self) -> None:
        get, idle = self._work.get, self._idle
        try:
            while True:
                try:
                    work = get(timeout=self.idle_timeout)
                except queue.Empty:
                    # Leave only if no submitter counted on this idle thread in the meantime.
                    if idle.acquire(blocking=False):
                        return
                    continue
                work()
                del work
                idle.release()
        finally:
            with self._lock:
                self._threads -= 1
