"""Time as a task sees it, injected so a test runs a task that waits ten minutes in no time.
Seconds (floats), as Python's ``time`` module counts; ``sleep`` ends early, raising
``Cancelled``, when the token is cancelled."""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import Protocol

from ._cancel import CancelToken


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep(self, seconds: float, cancel: CancelToken | None = None) -> None: ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float, cancel: CancelToken | None = None) -> None:
        if cancel is None:
            time.sleep(max(0.0, seconds))
            return
        # Event.wait wakes at once on cancel (a SIGTERM handler that cancels runs in between).
        if cancel.wait(max(0.0, seconds)):
            cancel.raise_if_cancelled()


class FakeClock:
    """Virtual time for tests: ``sleep`` moves time on at once instead of waiting, running every
    callback scheduled with ``call_at`` whose time has come (in order). A callback that cancels
    the task (``clock.call_at(90, cancel.cancel)``: the runner's SIGTERM 90 s in) ends the sleep
    it falls in, at that time, so a test sees exactly when the task stopped."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._due: list[tuple[float, int, Callable[[], object]]] = []
        self._order = itertools.count()
        self.slept: list[float] = []

    def now(self) -> float:
        return self._now

    def call_at(self, at: float, callback: Callable[[], object]) -> None:
        heapq.heappush(self._due, (at, next(self._order), callback))

    def advance(self, seconds: float) -> None:
        self._run_until(self._now + seconds, None)

    def sleep(self, seconds: float, cancel: CancelToken | None = None) -> None:
        self.slept.append(seconds)
        if cancel is not None:
            cancel.raise_if_cancelled()
        self._run_until(self._now + max(0.0, seconds), cancel)

    def _run_until(self, until: float, cancel: CancelToken | None) -> None:
        while self._due and self._due[0][0] <= until:
            at, _, callback = heapq.heappop(self._due)
            self._now = max(self._now, at)
            callback()
            if cancel is not None and cancel.cancelled:
                cancel.raise_if_cancelled()
        self._now = max(self._now, until)
