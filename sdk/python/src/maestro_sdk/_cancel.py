"""Cancellation: the runner's SIGTERM (a cancel, or the task's timeout) as a token the task
checks, the Python counterpart of the TypeScript SDK's ``AbortSignal``. Thread-safe (an
``Event``), so a signal handler, a test or another thread may cancel."""

from __future__ import annotations

import threading

from ._errors import Cancelled


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()
        self._reason: Cancelled | None = None

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    @property
    def reason(self) -> Cancelled | None:
        return self._reason

    def cancel(self, reason: str = "the task was asked to stop") -> None:
        if not self._event.is_set():
            self._reason = Cancelled(reason)
            self._event.set()

    def raise_if_cancelled(self) -> None:
        """Raises ``Cancelled`` once cancelled (``signal.throwIfAborted()`` in TypeScript)."""
        if self._reason is not None:
            raise self._reason

    def wait(self, timeout: float | None = None) -> bool:
        """Blocks until cancelled or ``timeout`` seconds passed; True when cancelled."""
        return self._event.wait(timeout)
