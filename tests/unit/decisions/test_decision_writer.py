"""The background writer: a bounded queue, a durable spool, a store that is down or fails."""

from __future__ import annotations

import logging
import os
import threading
import time

from engage.decisions.spool import Spool, store_key
from engage.decisions.store import open_store
from engage.decisions.writer import DecisionWriter
from tests.unit.decisions.test_decision_store import record


class Counts:
    def __init__(self) -> None:
        self.written = self.dropped = self.failed = self.retried = 0

    def kwargs(self) -> dict:
        def add(name):
            return lambda n: setattr(self, name, getattr(self, name) + n)

        return {
            "on_written": add("written"),
            "on_dropped": add("dropped"),
            "on_failed": add("failed"),
            "on_retried": add("retried"),
        }


def writer_of(tmp_path, counts: Counts, url: str | None = None, **kw) -> DecisionWriter:
    return DecisionWriter(
        url or f"sqlite:///{tmp_path / 'd.db'}",
        spool_dir=tmp_path / "spool",
        retry_s=0.02,
        retry_max_s=0.1,
        **counts.kwargs(),
        **kw,
    )


def until(condition, timeout_s: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


class Outage:
    """The store refuses the shipper's writes until ``end()`` (as a stopped server would)."""

    def __init__(self, writer: DecisionWriter) -> None:
        assert writer.wait_ready(10)
        self.store = writer.store
        self.real = self.store.write
        self.down = True

        def write(records):
            if self.down and threading.current_thread().name == "decision-shipper":
                raise OSError("connection refused (test outage)")
            return self.real(records)

        self.store.write = write

    def end(self) -> None:
        self.down = False


def test_overflow_drops_counts_and_logs_once(caplog, tmp_path):
    counts = Counts()
    writer = writer_of(tmp_path, counts, queue_size=2)
    records = [record() for _ in range(5)]  # not started: nothing drains the queue
    with caplog.at_level(logging.WARNING, logger="engage.decisions"):
        accepted = [writer.submit(r) for r in records]
    assert accepted == [True, True, False, False, False]
    assert counts.dropped == 3
    assert "queue is full" in writer.refusal()
    overflow = [r for r in caplog.records if "queue full" in r.getMessage()]
    assert len(overflow) == 1 and "2 records waiting" in overflow[0].getMessage()
    assert writer.pending(records[0].decision_id) == records[0]
    assert writer.pending(records[4].decision_id) is None

    writer.start()
    assert writer.flush(10)
    assert writer.refusal() is None
    writer.stop()
    assert counts.written == 2 and counts.failed == 0


def test_records_are_written_and_found(tmp_path):
    counts = Counts()
    writer = writer_of(tmp_path, counts)
    writer.start()
    records = [record() for _ in range(50)]
    for r in records:
        assert writer.submit(r)
    assert writer.flush(10)
    assert counts.written == 50
    assert writer.store.get(records[-1].decision_id) == records[-1]
    writer.stop()
    assert list((tmp_path / "spool").iterdir()) == []  # an empty spool is removed


def test_durable_is_done_once_everything_submitted_is_in_the_spool(tmp_path):
    counts = Counts()
    writer = writer_of(tmp_path, counts)
    assert writer.durable().done()  # nothing submitted
    first = record()
    writer.submit(first)
    waiting = writer.durable()
    assert not waiting.done()  # not started: nothing spooled
    writer.start()
    Outage(writer)  # the store's state does not matter: the spool is what makes it durable
    waiting.result(10)
    assert writer.spools.get(first.decision_id) == first or writer.store.get(first.decision_id)
    writer.submit(record())
    writer.durable().result(10)
    writer.stop(timeout_s=0.2)


def test_a_store_that_is_down_never_raises_and_never_shows_its_password(tmp_path, caplog):
    counts = Counts()
    url = "postgresql+psycopg://engage:s3cret-pw@127.0.0.1:1/decisions"
    writer = writer_of(tmp_path, counts, url=url, queue_size=3)
    with caplog.at_level(logging.ERROR, logger="engage.decisions"):
        writer.start()
        assert not writer.wait_ready(0.3)
        records = [record() for _ in range(5)]
        for r in records:
            assert until(lambda: writer.refusal() is None)
            assert writer.submit(r)
        assert until(lambda: writer.spooled() == 5)
        assert until(lambda: writer.last_error is not None)  # the first attempt to open failed
    assert counts.dropped == 0 and counts.written == 0
    assert all(writer.pending(r.decision_id) == r for r in records)
    assert not writer.deliver(records[0].decision_id)  # no store to deliver to
    assert writer.last_error and "s3cret-pw" not in writer.last_error
    assert all("s3cret-pw" not in r.getMessage() for r in caplog.records)
    assert any("unavailable" in r.getMessage() for r in caplog.records)
    writer.stop(timeout_s=1)
    assert counts.failed == 0  # kept in the spool, not lost
    (kept,) = Spool.adopt_orphans(tmp_path / "spool", store_key(url))
    assert kept.count == 5
    kept.close()


def test_a_failed_write_is_retried_never_dropped(tmp_path, caplog):
    counts = Counts()
    writer = writer_of(tmp_path, counts)
    writer.start()
    outage = Outage(writer)
    records = [record() for _ in range(30)]
    with caplog.at_level(logging.INFO, logger="engage.decisions"):
        for r in records:
            assert writer.submit(r)
        assert until(lambda: counts.retried >= 30)
        assert writer.backlog() == 30 and not writer.store_up
        outage.end()
        assert writer.flush(10)
    assert writer.store.count() == 30 and counts.written == 30
    assert writer.store_up and writer.backlog() == 0
    messages = [r.getMessage() for r in caplog.records]
    assert sum("decision store unavailable" in m for m in messages) == 1  # once per outage
    assert any("decision store back" in m for m in messages)
    writer.stop()


def test_a_spool_read_that_fails_is_retried_not_the_end_of_the_shipper(tmp_path, monkeypatch):
    counts = Counts()
    peek, failures = Spool.peek, []

    def flaky_peek(self, n):
        if not failures:
            failures.append(1)
            raise OSError("disk I/O error (test)")
        return peek(self, n)

    monkeypatch.setattr(Spool, "peek", flaky_peek)
    writer = writer_of(tmp_path, counts)
    writer.start()
    writer.submit(record())
    assert writer.flush(10) and failures == [1]
    assert counts.written == 1
    writer.stop()


def test_replay_is_idempotent(tmp_path):
    counts = Counts()
    writer = writer_of(tmp_path, counts)
    writer.start()
    outage = Outage(writer)
    records = [record() for _ in range(10)]
    for r in records:
        writer.submit(r)
    assert until(lambda: writer.spooled() == 10)
    assert writer.deliver(records[3].decision_id)  # written ahead of the backlog
    assert writer.store.get(records[3].decision_id) == records[3]
    writer.store.write(records[:2])  # as if a crash came between commit and removal
    outage.end()
    assert writer.flush(10)
    assert writer.store.count() == 10
    assert [writer.store.get(r.decision_id) for r in records] == records
    writer.stop()


def test_the_spool_survives_a_restart_and_the_next_writer_replays_it(tmp_path):
    first_counts, next_counts = Counts(), Counts()
    first = writer_of(tmp_path, first_counts)
    first.start()
    Outage(first)
    records = [record() for _ in range(40)]
    for r in records:
        first.submit(r)
    assert until(lambda: first.spooled() == 40)
    first.stop(timeout_s=0.5)  # the store is still down: the spool is kept
    assert first_counts.failed == 0
    assert open_store(f"sqlite:///{tmp_path / 'd.db'}").count() == 0

    later = writer_of(tmp_path, next_counts)
    later.start()
    assert later.pending(records[7].decision_id) == records[7]  # found before it is replayed
    assert until(lambda: later.backlog() == 0)
    assert later.store.count() == 40 and next_counts.written == 40
    assert [later.store.get(r.decision_id) for r in records] == records
    later.stop()
    assert list((tmp_path / "spool").iterdir()) == []


def test_a_large_spool_gives_the_disk_back_once_replayed(tmp_path, monkeypatch):
    from engage.decisions import spool as spool_module

    monkeypatch.setattr(spool_module, "COMPACT_BYTES", 64 * 1024)
    spool = Spool.create(tmp_path / "spool", "k")
    spool.append([record() for _ in range(300)])
    spool.append([record()])
    large = spool.disk_bytes()
    assert large > 64 * 1024
    last = spool.peek(1000)[-1][0]
    spool.remove_through(last - 1)
    assert spool.disk_bytes() >= large // 2  # a backlog left: nothing compacted yet
    spool.remove_through(last)
    assert spool.count == 0 and spool.disk_bytes() < 64 * 1024
    spool.close()


def test_an_empty_spool_left_by_a_crash_is_removed(tmp_path):
    counts = Counts()
    url = f"sqlite:///{tmp_path / 'd.db'}"
    crashed = Spool.create(tmp_path / "spool", store_key(url))
    os.close(crashed._lock_fd)  # the process died: its lock is gone, its empty file stays
    writer = writer_of(tmp_path, counts)
    writer.start()
    assert not crashed.path.exists()
    writer.stop()


def test_a_live_writers_spool_is_not_taken_by_another(tmp_path):
    counts = Counts()
    one = writer_of(tmp_path, counts)
    one.start()
    Outage(one)
    one.submit(record())
    assert until(lambda: one.spooled() == 1)
    assert Spool.adopt_orphans(tmp_path / "spool", store_key(one.url)) == []
    one.stop(timeout_s=0.2)


def test_the_spool_bound_refuses_new_decisions_and_logs_once(tmp_path, caplog):
    counts = Counts()
    size = len(record().to_json())
    writer = writer_of(tmp_path, counts, spool_max_bytes=3 * size)
    writer.start()
    Outage(writer)
    taken = 0
    with caplog.at_level(logging.ERROR, logger="engage.decisions"):
        for _ in range(10):
            assert until(lambda: writer.queued() == 0)  # spooled, so the bound sees it
            if writer.refusal() is not None:
                continue
            assert writer.submit(record())
            taken += 1
    assert taken == 3
    assert writer.spooled() == 3 and writer.spooled_bytes() >= 3 * size - 3
    assert "spool is full" in writer.refusal()
    assert sum("spool is full" in r.getMessage() for r in caplog.records) == 1
    writer.stop(timeout_s=0.2)
