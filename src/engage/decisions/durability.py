"""When a submitted decision is durable: a future per waiting request, done once every record
submitted before it is fsynced in the spool.

The spooler commits whatever arrived during the previous fsync as one batch, so concurrent
requests share one fsync; the recommendation routes wait (at most ``DURABLE_WAIT_S`` of
:mod:`engage.decisions.writer`) before answering, so an id is handed out only once its decision
survives a crash of the process.
"""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import Future, InvalidStateError


class SpooledMark:
    """How many records were submitted, how many of them (in order) are in the spool, and the
    futures waiting for the second to reach the first."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._submitted = 0
        self._spooled = 0
        self._waiters: list[tuple[int, Future[None]]] = []

    def submitted(self) -> None:
        """One more record was accepted."""
        with self._lock:
            self._submitted += 1

    def wait(self) -> Future[None]:
        """A future done once every record submitted so far is in the spool."""
        done: Future[None] = Future()
        with self._lock:
            target = self._submitted
            if self._spooled < target:
                self._waiters.append((target, done))
                return done
        done.set_result(None)
        return done

    def spooled(self, n: int) -> None:
        """``n`` more records (the oldest not yet counted) are fsynced in the spool."""
        with self._lock:
            self._spooled += n
        self.release()

    def release(self, everyone: bool = False) -> None:
        """Complete the futures whose records are spooled (``everyone``: all, at a stop)."""
        with self._lock:
            through = self._spooled
            ready = [f for t, f in self._waiters if everyone or t <= through]
            self._waiters = [] if everyone else [(t, f) for t, f in self._waiters if t > through]
        for waiter in ready:
            with contextlib.suppress(InvalidStateError):  # the caller stopped waiting
                waiter.set_result(None)
