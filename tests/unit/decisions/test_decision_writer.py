"""The background writer: bounded queue, counted drops with one log line, a store that is down."""

from __future__ import annotations

import logging

from engage.decisions.writer import DecisionWriter
from tests.unit.decisions.test_decision_store import record


class Counts:
    def __init__(self) -> None:
        self.written = self.dropped = self.failed = 0

    def kwargs(self) -> dict:
        def add(name):
            return lambda n: setattr(self, name, getattr(self, name) + n)

        return {"on_written": add("written"), "on_dropped": add("dropped"), "on_failed": add("failed")}


def test_overflow_drops_counts_and_logs_once(caplog, tmp_path):
    counts = Counts()
    writer = DecisionWriter(f"sqlite:///{tmp_path / 'd.db'}", queue_size=2, **counts.kwargs())
    records = [record() for _ in range(5)]  # not started: nothing drains the queue
    with caplog.at_level(logging.WARNING, logger="engage.decisions"):
        accepted = [writer.submit(r) for r in records]
    assert accepted == [True, True, False, False, False]
    assert counts.dropped == 3
    overflow = [r for r in caplog.records if "queue full" in r.getMessage()]
    assert len(overflow) == 1 and "2 records waiting" in overflow[0].getMessage()
    assert writer.pending(records[0].decision_id) == records[0]
    assert writer.pending(records[4].decision_id) is None

    writer.start()
    assert writer.flush(10)
    writer.stop()
    assert counts.written == 2 and counts.failed == 0
    assert writer.store is not None


def test_records_are_written_and_found(tmp_path):
    counts = Counts()
    writer = DecisionWriter(f"sqlite:///{tmp_path / 'd.db'}", **counts.kwargs())
    writer.start()
    records = [record() for _ in range(50)]
    for r in records:
        assert writer.submit(r)
    assert writer.flush(10)
    assert counts.written == 50
    assert writer.store.get(records[-1].decision_id) == records[-1]
    writer.stop()


def test_a_store_that_is_down_never_raises_and_never_shows_its_password(tmp_path, caplog):
    counts = Counts()
    writer = DecisionWriter(
        "postgresql+psycopg://engage:s3cret-pw@127.0.0.1:1/decisions", queue_size=3,
        retry_s=0.05, **counts.kwargs(),
    )
    with caplog.at_level(logging.ERROR, logger="engage.decisions"):
        writer.start()
        assert not writer.wait_ready(0.5)
        results = [writer.submit(record()) for _ in range(5)]
        writer._stop.set()
    assert results == [True, True, True, False, False]
    assert counts.dropped == 2 and counts.written == 0
    assert writer.last_error and "s3cret-pw" not in writer.last_error
    assert all("s3cret-pw" not in r.getMessage() for r in caplog.records)
    assert any("unavailable" in r.getMessage() for r in caplog.records)
    writer.stop(timeout_s=1)


def test_a_failed_write_is_counted_and_the_thread_goes_on(tmp_path):
    counts = Counts()
    writer = DecisionWriter(f"sqlite:///{tmp_path / 'd.db'}", **counts.kwargs())
    writer.start()
    assert writer.wait_ready(10)
    same = record()
    writer.submit(same)
    assert writer.flush(10)
    writer.submit(same)  # the same id again: the insert fails
    assert writer.flush(10)
    writer.submit(record())
    assert writer.flush(10)
    writer.stop()
    assert (counts.written, counts.failed) == (2, 1)
