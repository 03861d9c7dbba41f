"""Real outages of the decision store: a PostgreSQL server stopped and started again, an SQLite
file held by another connection's exclusive transaction. No decision submitted is lost."""

from __future__ import annotations

import sqlite3

import pytest

from engage.decisions import store as store_module
from engage.decisions.writer import DecisionWriter
from tests.postgres import create_database, start_server, temporary_root
from tests.unit.decisions.test_decision_store import record
from tests.unit.decisions.test_decision_writer import Counts, until


def writer_of(url: str, tmp_path, counts: Counts) -> DecisionWriter:
    return DecisionWriter(
        url, spool_dir=tmp_path / "spool", retry_s=0.05, retry_max_s=0.5, **counts.kwargs()
    )


@pytest.mark.slow  # starts, stops and starts again a PostgreSQL server of its own
def test_no_decision_is_lost_while_postgresql_is_stopped(tmp_path):
    server, stop = start_server(temporary_root())
    try:
        url = create_database(server, "outage")
        counts = Counts()
        writer = writer_of(url, tmp_path, counts)
        writer.start()
        assert writer.wait_ready(30)
        before = [record() for _ in range(20)]
        for r in before:
            assert writer.submit(r)
        assert writer.flush(20)

        stop()  # the outage
        during = [record() for _ in range(200)]
        for r in during:
            assert writer.refusal() is None
            assert writer.submit(r)
        assert until(lambda: counts.retried > 0, 30)
        assert writer.backlog() == 200 and not writer.store_up
        assert not writer.deliver(during[0].decision_id)  # an outcome would get 503, not 404
        assert writer.pending(during[0].decision_id) == during[0]

        stop.start_again()
        assert writer.flush(60)
        assert writer.store.count() == 220
        assert counts.written == 220 and counts.failed == counts.dropped == 0
        assert [writer.store.get(r.decision_id) for r in during[::50]] == during[::50]
        writer.stop()
    finally:
        stop()


def test_no_decision_is_lost_while_sqlite_is_locked(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(store_module, "SQLITE_BUSY_TIMEOUT_S", 0.1)  # fail fast, not in 30 s
    path = tmp_path / "d.db"
    counts = Counts()
    writer = writer_of(f"sqlite:///{path}", tmp_path, counts)
    writer.start()
    assert writer.wait_ready(30)
    holder = sqlite3.connect(path, isolation_level=None, timeout=30)
    holder.execute("BEGIN EXCLUSIVE")  # another process's long transaction
    try:
        records = [record() for _ in range(100)]
        for r in records:
            assert writer.submit(r)
        assert until(lambda: counts.retried > 0, 30), (writer.backlog(), writer.last_error)
        assert writer.backlog() == 100, (writer.queued(), writer.spooled(), counts.written)
        assert "database is locked" in (writer.last_error or ""), writer.last_error
        # the driver's error carries the INSERT and its rows (profiles): kept out of the log
        assert "[parameters:" not in writer.last_error
        assert all("[parameters:" not in r.getMessage() for r in caplog.records)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert writer.flush(60), (writer.backlog(), writer.last_error)
    assert writer.store.count() == 100 and counts.written == 100
    writer.stop()
