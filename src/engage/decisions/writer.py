"""A bounded queue of decision records drained by one background thread into the store.

The request thread only calls :meth:`DecisionWriter.submit`, which never blocks and never
raises: when the queue is full the record is dropped, counted, and the overflow logged (once
per overflow episode, with the count so far). The writer thread opens the store (migrating
it) and retries while the database is down; records that fail to write are counted as failed
and logged (redacted). Records not yet written can be found by id (:meth:`pending`), and
:meth:`flush` waits for the queue to drain, so an outcome posted right after its decision is
not refused as unknown.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

from engage.contract.redaction import redact
from engage.decisions.records import DecisionRecord
from engage.decisions.store import DecisionStore, open_store

log = logging.getLogger("engage.decisions")

Count = Callable[[int], None]


def _ignore(_: int) -> None:
    pass


class DecisionWriter:
    """Background writer of decision records (see the module docstring).

    Args:
        url: the store's SQLAlchemy URL (opened and migrated by the writer thread).
        queue_size: the most records waiting; more are dropped.
        on_written, on_dropped, on_failed: called with a count (Prometheus counters' ``inc``).
        batch: the most records written in one transaction.
        linger_s: how long the writer gathers records after the first before writing them.
        retry_s: seconds between attempts to open an unreachable store.
    """

    def __init__(
        self,
        url: str,
        queue_size: int = 10_000,
        *,
        on_written: Count = _ignore,
        on_dropped: Count = _ignore,
        on_failed: Count = _ignore,
        batch: int = 500,
        retry_s: float = 2.0,
        linger_s: float = 0.02,
    ) -> None:
        self.url = url
        self.queue: queue.Queue[DecisionRecord] = queue.Queue(maxsize=queue_size)
        self.on_written, self.on_dropped, self.on_failed = on_written, on_dropped, on_failed
        self.batch = batch
        self.retry_s = retry_s
        self.linger_s = linger_s
        self.store: DecisionStore | None = None
        self.last_error: str | None = None
        self._pending: dict[str, DecisionRecord] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._overflowing = False
        self._dropped = 0
        self._ready = threading.Event()

    # ---------------------------------------------------------------- request side

    def submit(self, record: DecisionRecord) -> bool:
        """Queue ``record`` for writing; False (counted, logged) when the queue is full."""
        with self._lock:
            try:
                self.queue.put_nowait(record)
            except queue.Full:
                self._dropped += 1
                first = not self._overflowing
                self._overflowing = True
            else:
                self._pending[record.decision_id] = record
                self._overflowing = False
                return True
        self.on_dropped(1)
        if first:
            log.warning(
                "decision queue full (%d records waiting): dropping new decision records until "
                "the writer catches up (%d dropped since start; metric engage_decisions_dropped)",
                self.queue.maxsize,
                self._dropped,
            )
        return False

    def pending(self, decision_id: str) -> DecisionRecord | None:
        """The record with this id if it is queued or being written, else None."""
        with self._lock:
            return self._pending.get(decision_id)

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every queued record is written (or failed); False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                if not self._pending:
                    return True
            time.sleep(0.005)
        return False

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait until the store is open (True) or ``timeout_s`` passes (False)."""
        return self._ready.wait(timeout_s)

    # ---------------------------------------------------------------- writer thread

    def start(self) -> None:
        """Start the writer thread (idempotent)."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="decision-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Write what is queued (up to ``timeout_s``), then stop the thread."""
        if self._thread is not None:
            if self.store is not None:
                self.flush(timeout_s)
            self._stop.set()
            self._thread.join(timeout_s)
            self._thread = None
        if self.store is not None:
            self.store.close()

    def _open(self) -> bool:
        try:
            self.store = open_store(self.url)
        except Exception as exc:  # noqa: BLE001 - the store may be down: retry, say why
            text = redact(exc)
            if text != self.last_error:
                log.error("decision store unavailable, retrying every %.0f s: %s", self.retry_s, text)
            self.last_error = text
            return False
        self.last_error = None
        self._ready.set()
        log.info("recording decisions in %s", self.store.describe())
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            if self.store is None and not self._open():
                self._stop.wait(self.retry_s)
                continue
            try:
                first = self.queue.get(timeout=0.1)
            except queue.Empty:
                continue
            records = [first]
            # gather for a moment: one transaction per batch, not per request
            until = time.monotonic() + self.linger_s
            while len(records) < self.batch:
                try:
                    records.append(self.queue.get(timeout=max(until - time.monotonic(), 0)))
                except queue.Empty:
                    break
            self._write(records)

    def _write(self, records: list[DecisionRecord]) -> None:
        assert self.store is not None
        try:
            self.store.write(records)
        except Exception as exc:  # noqa: BLE001 - a failed write must not kill the thread
            self.on_failed(len(records))
            self.last_error = redact(exc)
            log.error("failed to write %d decision records: %s", len(records), self.last_error[:500])
        else:
            self.on_written(len(records))
        finally:
            with self._lock:
                for r in records:
                    self._pending.pop(r.decision_id, None)
