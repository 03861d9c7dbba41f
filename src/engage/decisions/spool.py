"""The decision spool: a local SQLite file where decisions wait, durably, for the store.

Every decision record passes through a spool on its way to the store (a write-ahead log): the
writer appends each batch in one transaction that is fsynced before it returns
(``synchronous=FULL``), and removes records once the store has committed them. So a decision
answered with an id is, from the moment its batch is appended, either in the store or here,
whatever the store's outage and whatever happens to the process; only the records still in
the writer's memory queue (not yet appended) can be lost to a SIGKILL or a power cut.

Why a SQLite file rather than a file of JSON lines: a transaction is atomic (a torn last line
cannot happen), records are found by decision id through an index (an outcome posted for a
spooled decision must find it without holding the backlog in memory), and removing replayed
records is a ``DELETE`` rather than a rewrite of segments; ``sqlite3`` is in the standard
library. Each record is kept as one JSON line (:meth:`DecisionRecord.to_json`), in a column.
Once an outage's backlog is replayed, a file grown past ``COMPACT_BYTES`` is vacuumed (and
its write-ahead log capped at that size), so the disk an outage took is given back.

One spool belongs to one process: its file name carries the store's key (a hash of the store
URL without its password) and a random token, and the process holds an exclusive ``flock`` on
a companion ``.lock`` file while it uses it. A writer adopts the spools of its store that no
live process holds (left by a crash or a stop while the store was down) and replays them.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import secrets
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from engage.decisions.records import DecisionRecord

log = logging.getLogger("engage.decisions")

SUFFIX = ".spool.db"
BUSY_TIMEOUT_S = 10.0  # the spool is one process's: only its own two threads ever wait
COMPACT_BYTES = 64 * 2**20  # a spool file this large is vacuumed once its backlog is replayed

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    decision_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS spool_decision_id ON spool (decision_id);
"""


def store_key(url: str) -> str:
    """A short stable name for the store at ``url`` (a hash of it without its password)."""
    try:
        shown = sa.engine.make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL: never hash a password in
        shown = "unparsable"
    return hashlib.sha256(shown.encode()).hexdigest()[:12]


class SpoolLocked(RuntimeError):
    """Another live process holds this spool."""


class Spool:
    """One spool file, held (locked) by this process; thread-safe. Use :meth:`create` or
    :meth:`adopt_orphans`."""

    def __init__(self, path: Path, *, existing: bool = False) -> None:
        self.path = path
        self._lock_fd = _lock(path)
        if existing and not path.exists():  # its owner emptied and removed it as we looked
            _unlock(self._lock_fd, path, remove=True)
            raise SpoolLocked(f"{path} was removed by its owner")
        try:
            self._db = sqlite3.connect(
                path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA journal_size_limit={COMPACT_BYTES}")
            self._db.executescript(_SCHEMA)
            self.count, self.nbytes = self._db.execute(
                "SELECT count(*), coalesce(sum(length(body)), 0) FROM spool"
            ).fetchone()
        except BaseException:
            _unlock(self._lock_fd, path)
            raise
        self._mutex = threading.Lock()
        self.closed = False

    @classmethod
    def create(cls, folder: Path, key: str) -> Spool:
        """A new spool of this process for the store ``key`` in ``folder`` (created)."""
        folder.mkdir(parents=True, exist_ok=True)
        return cls(folder / f"decisions-{key}-{secrets.token_hex(4)}{SUFFIX}")

    @classmethod
    def adopt_orphans(cls, folder: Path, key: str) -> list[Spool]:
        """The spools of store ``key`` in ``folder`` that no live process holds, oldest first."""
        found: list[Spool] = []
        if not folder.is_dir():
            return found
        paths = sorted(folder.glob(f"decisions-{key}-*{SUFFIX}"), key=_mtime)
        for path in paths:
            try:
                found.append(cls(path, existing=True))
            except SpoolLocked:
                continue  # a live process's own spool
            except Exception as exc:  # noqa: BLE001 - a damaged file: say so, keep it, go on
                log.error("cannot read the decision spool %s (kept as it is): %s", path, exc)
        return found

    # ---------------------------------------------------------------- records

    def append(self, records: Sequence[DecisionRecord]) -> None:
        """Append ``records`` in one transaction, fsynced before returning."""
        rows = [(r.decision_id, r.to_json()) for r in records]
        with self._mutex:
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany("INSERT INTO spool (decision_id, body) VALUES (?, ?)", rows)
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.count += len(rows)
            self.nbytes += sum(len(body) for _, body in rows)

    def peek(self, n: int) -> list[tuple[int, DecisionRecord]]:
        """The ``n`` oldest records with their sequence numbers, oldest first."""
        with self._mutex:
            rows = self._db.execute(
                "SELECT seq, body FROM spool ORDER BY seq LIMIT ?", (n,)
            ).fetchall()
        return [(seq, DecisionRecord.from_json(body)) for seq, body in rows]

    def remove_through(self, seq: int) -> None:
        """Remove the records up to sequence number ``seq`` (they are in the store).

        Not fsynced: a removal lost to a crash only makes the next writer replay records the
        store already has, which the store's idempotent write ignores.
        """
        with self._mutex:
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("BEGIN IMMEDIATE")
            try:
                gone, size = self._db.execute(
                    "SELECT count(*), coalesce(sum(length(body)), 0) FROM spool WHERE seq <= ?",
                    (seq,),
                ).fetchone()
                self._db.execute("DELETE FROM spool WHERE seq <= ?", (seq,))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.count -= gone
            self.nbytes -= size
            if self.count == 0 and self.disk_bytes() > COMPACT_BYTES:
                # an outage's backlog is replayed: give the disk back (fast on an empty table)
                self._db.execute("VACUUM")
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def disk_bytes(self) -> int:
        """The spool's size on disk (its file and write-ahead log)."""
        total = 0
        for extra in ("", "-wal"):
            with contextlib.suppress(FileNotFoundError):
                total += os.stat(f"{self.path}{extra}").st_size
        return total

    def get(self, decision_id: str) -> DecisionRecord | None:
        """The spooled record with this id, or None."""
        with self._mutex:
            row = self._db.execute(
                "SELECT body FROM spool WHERE decision_id = ? LIMIT 1", (decision_id,)
            ).fetchone()
        return None if row is None else DecisionRecord.from_json(row[0])

    def close(self) -> None:
        """Close the file; an empty spool is removed, a non-empty one kept for the next writer."""
        with self._mutex:
            if self.closed:
                return
            self.closed = True
            empty = self.count == 0
            self._db.close()
            if empty:
                for extra in ("", "-wal", "-shm"):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(f"{self.path}{extra}")
            _unlock(self._lock_fd, self.path, remove=empty)


class Spools:
    """A writer's own spool (created on first use) and the orphans it adopted, which are
    replayed first; thread-safe."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder, self.key = folder, key
        self.own: Spool | None = None
        self._orphans: list[Spool] = []
        self._lock = threading.Lock()

    def adopt(self) -> None:
        """Adopt the spools earlier writers of this store left (empty ones are removed)."""
        try:
            orphans = Spool.adopt_orphans(self.folder, self.key)
        except Exception as exc:  # noqa: BLE001 - cannot list the folder: own spool only
            log.error("cannot look for earlier decision spools in %s: %s", self.folder, exc)
            return
        for empty in [o for o in orphans if not o.count]:  # a crash with nothing spooled
            empty.close()  # removes the file
            orphans.remove(empty)
        if orphans:
            with self._lock:
                self._orphans = orphans
            log.warning(
                "found %d decisions spooled by an earlier writer of this store in %s; replaying",
                sum(o.count for o in orphans),
                ", ".join(str(o.path) for o in orphans),
            )

    def mine(self) -> Spool:
        """This writer's own spool, created on first use."""
        if self.own is None:
            spool = Spool.create(self.folder, self.key)
            with self._lock:
                self.own = spool
            log.info("spooling decisions through %s", spool.path)
        return self.own

    def all(self) -> list[Spool]:
        """The adopted spools, oldest first, then this writer's own."""
        with self._lock:
            return [*self._orphans, *([self.own] if self.own is not None else [])]

    def count(self) -> int:
        """Records in all the spools."""
        return sum(s.count for s in self.all())

    def nbytes(self) -> int:
        """Size of the spooled records (their JSON), bytes."""
        return sum(s.nbytes for s in self.all())

    def get(self, decision_id: str) -> DecisionRecord | None:
        """The spooled record with this id, or None."""
        for spool in self.all():
            try:
                found = spool.get(decision_id)
            except Exception:  # noqa: BLE001 - a spool closed as we looked: its records are stored
                continue
            if found is not None:
                return found
        return None

    def next_to_ship(self) -> Spool | None:
        """The first spool that holds records (adopted ones first), or None."""
        return next((s for s in self.all() if s.count), None)

    def shipped(self, source: Spool) -> None:
        """Records of ``source`` are in the store: an adopted spool emptied is removed."""
        if source is not self.own and source.count == 0:
            with self._lock:
                self._orphans.remove(source)
            source.close()
            log.info("replayed and removed the earlier spool %s", source.path)

    def close(self) -> None:
        """Close every spool; those still holding records are kept (and logged) for the next
        writer of this store."""
        spools = self.all()
        with self._lock:
            self._orphans, self.own = [], None
        for spool in spools:
            if spool.count:
                log.warning(
                    "%d decisions stay in the spool %s; the next writer of this store replays them",
                    spool.count,
                    spool.path,
                )
            spool.close()


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def _lock(path: Path) -> int:
    fd = os.open(_lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise SpoolLocked(f"{path} is held by another process") from None
    return fd


def _unlock(fd: int, path: Path, remove: bool = False) -> None:
    if remove:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(_lock_path(path))
    fcntl.flock(fd, fcntl.LOCK_UN)
    os.close(fd)
