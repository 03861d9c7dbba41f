"""Decision records on their way to the store: a memory queue, a durable spool, two threads.

The request thread calls :meth:`DecisionWriter.refusal` before answering (a spool at its
bound, or a full queue, refuses new decisions: the route answers 503 and hands out no id it
could not keep), then :meth:`DecisionWriter.submit`, which never blocks, and waits on
:meth:`DecisionWriter.durable` (at most ``DURABLE_WAIT_S``) until its record is fsynced in
the spool before answering. Two background threads carry the record on:

- the *spooler* appends queued records, a batch per transaction, to this process's spool
  (:mod:`.spool`, a local SQLite file fsynced per batch) and retries with back-off if the
  local disk fails;
- the *shipper* opens the store (migrating it), writes the spool's oldest records to it, and
  removes them from the spool once committed. A failed write is retried with back-off
  (``RETRY_S`` doubling to ``RETRY_MAX_S``), never dropped; the backlog waits in the spool,
  whatever the outage's length, and is replayed in order. The store's write is idempotent,
  so a record replayed twice (after a crash between commit and removal) is harmless.

What a SIGKILL can lose: the records in the memory queue, not yet appended to the spool. As
the routes answer only once the record is fsynced, these are decisions not yet answered (the
caller got no id), unless the spool took longer than ``DURABLE_WAIT_S`` to fsync (a failing
local disk), when the answer goes out anyway; the queue's size bounds the loss.
A stop (SIGTERM) spools the whole queue, ships what it can within its timeout and leaves the
rest in the spool; the next writer of the same store adopts and replays it.

A record can be found by id from its submission until it is in the store (:meth:`pending`);
:meth:`deliver` writes one pending record to the store at once (an outcome posted for it must
not wait behind a backlog). Everything lost, refused, retried is counted through the
callbacks and logged (redacted, once per episode).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from engage.contract.redaction import redact
from engage.decisions.durability import SpooledMark
from engage.decisions.health import Backlog, StoreHealth, brief_error
from engage.decisions.records import DecisionRecord
from engage.decisions.spool import Spools, store_key
from engage.decisions.store import DecisionStore, open_store

log = logging.getLogger("engage.decisions")

Count = Callable[[int], None]

BATCH = 500  # records per spool transaction and per store transaction
LINGER_S = 0.0  # no waiting for more: records arriving during one fsync make the next batch
RETRY_S = 0.5  # first wait after a failed store open or write; doubles on each failure...
RETRY_MAX_S = 5.0  # ...up to this (so a store back is written to within 5 s)
DURABLE_WAIT_S = 2.0  # the most a response waits for its decision to be fsynced in the spool


def _ignore(_: int) -> None:
    pass


class DecisionWriter:
    """Background writer of decision records through a durable spool (see the module docstring).

    Args:
        url: the store's SQLAlchemy URL (opened and migrated by the shipper thread).
        queue_size: the most records waiting in memory to be spooled; beyond it new decisions
            are refused (:meth:`refusal`).
        spool_dir: the folder of the spool files (created).
        spool_max_bytes: at this size of spooled records new decisions are refused; records
            already accepted are still spooled (so the spool can pass it by at most the queue).
        on_written: records committed to the store.
        on_dropped: records refused by :meth:`submit` (a full queue reached past the check).
        on_failed: records lost (they could not be spooled before the writer stopped).
        on_retried: records whose store write failed and will be retried from the spool.
        batch, linger_s, retry_s, retry_max_s: see the module constants.
    """

    def __init__(
        self,
        url: str,
        queue_size: int = 10_000,
        *,
        spool_dir: Path,
        spool_max_bytes: int = 1024 * 1024 * 1024,
        on_written: Count = _ignore,
        on_dropped: Count = _ignore,
        on_failed: Count = _ignore,
        on_retried: Count = _ignore,
        batch: int = BATCH,
        linger_s: float = LINGER_S,
        retry_s: float = RETRY_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        self.url = url
        self.queue: queue.Queue[DecisionRecord] = queue.Queue(maxsize=queue_size)
        self.spool_dir = Path(spool_dir)
        self.spool_max_bytes = spool_max_bytes
        self.on_written, self.on_dropped = on_written, on_dropped
        self.on_failed, self.on_retried = on_failed, on_retried
        self.batch, self.linger_s = batch, linger_s
        self.retry_s, self.retry_max_s = retry_s, retry_max_s
        self.store: DecisionStore | None = None
        self.spools = Spools(self.spool_dir, store_key(url))
        self.health = StoreHealth(retry_max_s)
        self._queued: dict[str, DecisionRecord] = {}
        self._lock = threading.Lock()
        self._stop_spooling = threading.Event()
        self._give_up = threading.Event()
        self._stop_shipping = threading.Event()
        self._wake = threading.Event()
        self._ready = threading.Event()
        self._spooler: threading.Thread | None = None
        self._shipper: threading.Thread | None = None
        self._overflowing = False
        self._full = False
        self._dropped = 0
        self._mark = SpooledMark()

    @property
    def store_up(self) -> bool:
        """Whether the store took the last write."""
        return self.health.up

    @property
    def last_error(self) -> str | None:
        """Why the store last failed (redacted), None once it takes writes again."""
        return self.health.last_error

    # ---------------------------------------------------------------- request side

    def refusal(self) -> str | None:
        """Why a new decision cannot be accepted now (spool at its bound, queue full), or None.

        The first refusal of an episode is logged."""
        spooled = self.spooled_bytes()
        if spooled >= self.spool_max_bytes:
            reason = (
                f"the decision spool is full ({spooled / 2**20:.0f} MiB of "
                f"{self.spool_max_bytes / 2**20:.0f} MiB) while the decision store is unavailable"
            )
        elif self.queue.full():
            reason = f"the decision queue is full ({self.queue.maxsize} records waiting)"
        else:
            self._full = False
            return None
        if not self._full:
            self._full = True
            log.error(
                "%s: refusing new decisions (503) until it drains; metric "
                "engage_decisions_refused counts them",
                reason,
            )
        return reason

    def submit(self, record: DecisionRecord) -> bool:
        """Queue ``record`` for the spool; False (counted, logged) when the queue is full."""
        with self._lock:
            try:
                self.queue.put_nowait(record)
            except queue.Full:
                self._dropped += 1
                first = not self._overflowing
                self._overflowing = True
            else:
                self._queued[record.decision_id] = record
                self._mark.submitted()
                self._overflowing = False
                return True
        self.on_dropped(1)
        if first:
            log.warning(
                "decision queue full (%d records waiting): refusing new decision records until "
                "the spooler catches up (%d refused since start; metric engage_decisions_dropped)",
                self.queue.maxsize,
                self._dropped,
            )
        return False

    def durable(self) -> Future[None]:
        """A future done once every record submitted so far is fsynced in the spool (see
        :mod:`.durability`)."""
        return self._mark.wait()

    def pending(self, decision_id: str) -> DecisionRecord | None:
        """The record with this id if it is queued or spooled (not yet in the store), else None."""
        with self._lock:
            found = self._queued.get(decision_id)
        # the spooler appends a record before it leaves the queue: not queued, it is spooled
        return found if found is not None else self.spools.get(decision_id)

    def deliver(self, decision_id: str) -> bool:
        """Write the pending record with this id to the store now (idempotently); True if it is
        in the store (or was never pending), False if the store cannot take it now."""
        record = self.pending(decision_id)
        if record is None:
            return True
        store = self.store
        if store is None:
            return False
        try:
            store.write([record])
        except Exception as exc:  # noqa: BLE001 - the store is down: the caller says 503
            self.health.last_error = brief_error(exc)
            return False
        return True

    def flush(self, timeout_s: float = 5.0) -> bool:
        """Wait until every queued and spooled record is in the store; False on timeout."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.backlog() == 0:
                return True
            time.sleep(0.005)
        return False

    def wait_ready(self, timeout_s: float) -> bool:
        """Wait until the store is open (True) or ``timeout_s`` passes (False)."""
        return self._ready.wait(timeout_s)

    def queued(self) -> int:
        """Records in memory, not yet in the spool."""
        with self._lock:
            return len(self._queued)

    def spooled(self) -> int:
        """Records in the spool (this process's and adopted ones), not yet in the store."""
        return self.spools.count()

    def spooled_bytes(self) -> int:
        """Size of the spooled records (their JSON), bytes."""
        return self.spools.nbytes()

    def backlog(self) -> int:
        """Records accepted and not yet in the store."""
        return self.queued() + self.spooled()

    # ---------------------------------------------------------------- threads

    def start(self) -> None:
        """Adopt the spools earlier writers of this store left, and start the spooler and
        shipper threads (idempotent)."""
        if self._spooler is None:
            self.spools.adopt()
            for event in (self._stop_spooling, self._give_up, self._stop_shipping):
                event.clear()
            self._spooler = threading.Thread(
                target=self._run_spooler, name="decision-spooler", daemon=True
            )
            self._shipper = threading.Thread(
                target=self._run_shipper, name="decision-shipper", daemon=True
            )
            self._spooler.start()
            self._shipper.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Spool what is queued, ship what the store takes within ``timeout_s``, then stop.

        Records the store did not take stay in the spool for the next writer (logged);
        records that could not even be spooled are counted as failed (lost) and logged."""
        deadline = time.monotonic() + timeout_s
        if self._spooler is not None and self._shipper is not None:
            self._stop_spooling.set()
            self._spooler.join(max(deadline - time.monotonic(), 0.1))
            if self._spooler.is_alive():
                self._give_up.set()
                self._spooler.join(5)
            if self.store is not None:
                while time.monotonic() < deadline and self.spooled() and self.store_up:
                    time.sleep(0.01)
            self._stop_shipping.set()
            self._wake.set()
            self._shipper.join(max(deadline - time.monotonic(), 5))
            self._spooler = self._shipper = None
        self._mark.release(everyone=True)
        with self._lock:
            lost = len(self._queued)
            self._queued.clear()
        if lost:
            self.on_failed(lost)
            log.error("%d decision records were never spooled and are lost", lost)
        self.spools.close()
        if self.store is not None:
            self.store.close()

    def _gather(self) -> list[DecisionRecord]:
        try:
            records = [self.queue.get(timeout=0.1)]
        except queue.Empty:
            return []
        # gather for a moment: one fsync per batch, not per request
        until = time.monotonic() + self.linger_s
        while len(records) < self.batch:
            try:
                records.append(self.queue.get(timeout=max(until - time.monotonic(), 0)))
            except queue.Empty:
                break
        return records

    def _run_spooler(self) -> None:
        delay = self.retry_s
        failing = False
        records: list[DecisionRecord] = []
        while not self._give_up.is_set():
            try:
                spool = self.spools.mine()
                records = records or self._gather()
                if not records:
                    if self._stop_spooling.is_set():
                        return
                    continue
                spool.append(records)
            except Exception as exc:  # noqa: BLE001 - the local disk failed: keep them, retry
                if not failing:
                    log.error(
                        "cannot spool decisions in %s (%d waiting in memory), retrying: %s",
                        self.spool_dir,
                        self.queued(),
                        redact(exc)[:500],
                    )
                failing = True
                self._give_up.wait(delay)
                delay = min(delay * 2, self.retry_max_s)
                continue
            if failing:
                log.info("spooling decisions again")
            failing, delay = False, self.retry_s
            with self._lock:
                for r in records:
                    self._queued.pop(r.decision_id, None)
            self._mark.spooled(len(records))
            records = []
            self._wake.set()

    def _open(self) -> bool:
        try:
            self.store = open_store(self.url)
        except Exception as exc:  # noqa: BLE001 - the store may be down: retry, say why
            self._failed(brief_error(exc), 0)
            return False
        self._ready.set()
        log.info("recording decisions in %s", self.store.describe())
        return True

    def _failed(self, error: str, records: int) -> None:
        # the store is marked down before the retry is counted: whoever reads the counter
        # (a test, a scrape) then sees the state it counts
        self.health.failed(error, self._backlog)
        if records:
            self.on_retried(records)

    def _backlog(self) -> Backlog:
        where = self.spools.own.path if self.spools.own else self.spool_dir
        return Backlog(where, self.backlog(), self.spooled_bytes(), self.spool_max_bytes)

    def _run_shipper(self) -> None:
        delay = self.retry_s
        while not self._stop_shipping.is_set():
            if self.store is None and not self._open():
                self._stop_shipping.wait(delay)
                delay = min(delay * 2, self.retry_max_s)
                continue
            if self.store is not None and not self.store_up and not self.spooled():
                self.health.succeeded(self.backlog)  # opened, nothing to write yet
            source = self.spools.next_to_ship()
            if source is None:
                self._wake.wait(0.05)
                self._wake.clear()
                continue
            try:
                items = source.peek(self.batch)
            except Exception as exc:  # noqa: BLE001 - the local disk failed: say so, retry
                log.error("cannot read the decision spool %s, retrying: %s", source.path, exc)
                self._stop_shipping.wait(self.retry_max_s)
                continue
            if not items:  # counted but gone (cannot happen; do not spin)
                self._wake.wait(0.05)
                continue
            try:
                assert self.store is not None
                self.store.write([r for _, r in items])
            except Exception as exc:  # noqa: BLE001 - kept in the spool, retried
                self._failed(brief_error(exc), len(items))
                self._stop_shipping.wait(delay)
                delay = min(delay * 2, self.retry_max_s)
                continue
            delay = self.retry_s
            self.on_written(len(items))
            self.health.succeeded(self.backlog)
            try:
                source.remove_through(items[-1][0])
            except Exception as exc:  # noqa: BLE001 - written: a later replay is harmless
                log.error("cannot remove written decisions from %s: %s", source.path, exc)
                self._stop_shipping.wait(self.retry_max_s)
                continue
            self.spools.shipped(source)
