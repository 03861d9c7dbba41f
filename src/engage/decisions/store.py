"""The decision store: decisions and their outcomes in SQLite or PostgreSQL, via SQLAlchemy.

:func:`open_store` creates the engine and brings the schema to the head revision with Alembic
(the migrations ship inside this package); nobody runs migrations by hand. Outcomes merge:
each outcome of a decision is set once; the same value again changes nothing, a different one
is a conflict.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from engage.contract.redaction import redact, remember_uri
from engage.decisions import tables
from engage.decisions.records import DecisionRecord, as_utc, utcnow

MIGRATIONS = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_S = 30.0  # how long an SQLite statement waits for another's lock
#: a SELECT of any columns (what the decision windows filter)
_Query = TypeVar("_Query", bound="sa.Select[*tuple[Any, ...]]")


class StoreError(RuntimeError):
    """The store cannot be opened or reached (the message is redacted)."""


class UnknownDecision(LookupError):
    """No decision has this id."""

    def __init__(self, decision_id: str) -> None:
        super().__init__(f"no decision with id {decision_id!r}")
        self.decision_id = decision_id


class OutcomeProblem(ValueError):
    """Posted outcomes a decision cannot take; ``details`` names each field.

    ``kind`` is ``"invalid"`` (unknown name, wrong type, not finite) or ``"conflict"`` (a
    different value for an outcome already recorded).
    """

    def __init__(self, kind: str, details: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in details))
        self.kind = kind
        self.details = details


@dataclass(frozen=True)
class Merged:
    """A decision's outcomes after a post: all of them, which were new, which are missing."""

    decision_id: str
    outcomes: dict[str, float]
    added: list[str]
    missing: list[str]


def check_outcomes(
    values: Mapping[str, Any], types: Mapping[str, str], prefix: str = "outcomes"
) -> dict[str, float]:
    """Posted outcome values as floats, checked against the spec's outcome ``types``.

    Numeric outcomes take finite numbers; binary ones ``true``/``false`` or 0/1.

    Raises:
        OutcomeProblem: ``invalid``, naming every bad field.
    """
    out: dict[str, float] = {}
    problems: list[tuple[str, str]] = []
    for name, value in values.items():
        where = f"{prefix}.{name}"
        kind = types.get(name)
        if kind is None:
            problems.append(
                (where, f"unknown outcome; this decision's outcomes are {sorted(types)}")
            )
        elif kind == "binary":
            if isinstance(value, bool) or (
                isinstance(value, int | float) and not isinstance(value, bool) and value in (0, 1)
            ):
                out[name] = float(value)
            else:
                problems.append(
                    (where, f"binary outcome takes true/false or 0/1, not {value!r}"[:200])
                )
        elif isinstance(value, bool) or not isinstance(value, int | float):
            problems.append((where, f"numeric outcome takes a number, not {type(value).__name__}"))
        elif not _finite(value):
            problems.append((where, f"must be a finite number, not {str(value)[:40]}"))
        else:
            out[name] = float(value)
    if problems:
        raise OutcomeProblem("invalid", problems)
    return out


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an integer beyond float range
        return False


def _sqlite_pragmas(dbapi_connection: Any, _: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (export) never block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL's safe setting: no fsync per commit
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(url: str) -> Engine:
    """An engine for ``url``; an SQLite file's folder is created."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_S})
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return sa.create_engine(url, pool_pre_ping=True, pool_size=4, max_overflow=4)


def migrate(engine: Engine) -> None:
    """Bring the schema to the head revision (Alembic, migrations shipped in this package)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def schema_revision(engine: Engine) -> str | None:
    """The store's current Alembic revision (None: not created yet)."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": tables.VERSION_TABLE}
        )
        return context.get_current_revision()


def _insert_new(dialect: str) -> Any:
    """An INSERT of decisions that skips ids already stored (SQLite and PostgreSQL)."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(tables.decisions).on_conflict_do_nothing(index_elements=["decision_id"])
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(tables.decisions).on_conflict_do_nothing(
            index_elements=["decision_id"]
        )
    raise StoreError(f"decision store on {dialect!r}: only SQLite and PostgreSQL are supported")


class DecisionStore:
    """Decisions and outcomes in one database (see the module docstring)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def describe(self) -> str:
        """The store's URL with any password masked."""
        return redact(self.engine.url.render_as_string(hide_password=True))

    # ---------------------------------------------------------------- decisions

    def write(self, records: Iterable[DecisionRecord]) -> int:
        """Insert ``records`` in one transaction; returns how many were given.

        Idempotent: a decision whose id is already stored is left as it is (the spool replays
        what a crash may have left unacknowledged, and an outcome post may write a spooled
        decision ahead of its turn), so writing the same records again neither duplicates
        nor fails.
        """
        rows = [r.row() for r in records]
        if rows:
            with self.engine.begin() as conn:
                conn.execute(_insert_new(self.engine.dialect.name), rows)
        return len(rows)

    def get(self, decision_id: str) -> DecisionRecord | None:
        """The decision with this id, or None."""
        with self.engine.connect() as conn:
            row = (
                conn.execute(
                    sa.select(tables.decisions).where(tables.decisions.c.decision_id == decision_id)
                )
                .mappings()
                .first()
            )
        return None if row is None else DecisionRecord.from_row(row)

    def count(self) -> int:
        """How many decisions are stored."""
        with self.engine.connect() as conn:
            return int(
                conn.execute(sa.select(sa.func.count()).select_from(tables.decisions)).scalar_one()
            )

    # ---------------------------------------------------------------- outcomes

    def outcomes(self, decision_id: str) -> dict[str, float]:
        """The outcomes recorded for a decision so far."""
        with self.engine.connect() as conn:
            return self._outcomes(conn, decision_id)

    @staticmethod
    def _outcomes(conn: sa.Connection, decision_id: str) -> dict[str, float]:
        o = tables.outcomes
        rows = conn.execute(sa.select(o.c.name, o.c.value).where(o.c.decision_id == decision_id))
        return {name: value for name, value in rows}

    def merge_outcomes(
        self,
        decision_id: str,
        values: Mapping[str, Any],
        observed_at: datetime | None = None,
    ) -> Merged:
        """Merge posted outcomes into a decision's.

        Raises:
            UnknownDecision: no such decision.
            OutcomeProblem: a value is invalid (``invalid``) or differs from one already
                recorded for the same outcome (``conflict``).
        """
        record = self.get(decision_id)
        if record is None:
            raise UnknownDecision(decision_id)
        checked = check_outcomes(values, record.outcome_types)
        for attempt in range(2):  # a concurrent post of the same outcome: read again once
            try:
                return self._merge(record, checked, observed_at)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _merge(
        self, record: DecisionRecord, checked: dict[str, float], observed_at: datetime | None
    ) -> Merged:
        with self.engine.begin() as conn:
            have = self._outcomes(conn, record.decision_id)
            conflicts = [
                (
                    f"outcomes.{n}",
                    f"already recorded as {have[n]!r}; a second value {v!r} is refused",
                )
                for n, v in checked.items()
                if n in have and have[n] != v
            ]
            if conflicts:
                raise OutcomeProblem("conflict", conflicts)
            new = {n: v for n, v in checked.items() if n not in have}
            if new:
                now = utcnow()
                seen = as_utc(observed_at) if observed_at is not None else None
                conn.execute(
                    tables.outcomes.insert(),
                    [
                        {
                            "decision_id": record.decision_id,
                            "name": n,
                            "value": v,
                            "observed_at": seen,
                            "received_at": now,
                        }
                        for n, v in new.items()
                    ],
                )
        merged = {**have, **new}
        missing = [n for n in record.outcome_types if n not in merged]
        return Merged(record.decision_id, merged, sorted(new), missing)

    # ---------------------------------------------------------------- export

    def window_size(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> tuple[int, int]:
        """Decisions made in ``[since, until)`` and the longest payload among them, in
        characters of its JSON (counted by the database: nothing is read into memory)."""
        d = tables.decisions
        query = _in_window(
            sa.select(sa.func.count(), sa.func.max(sa.func.length(sa.cast(d.c.payload, sa.Text)))),
            since,
            until,
        )
        with self.engine.connect() as conn:
            count, longest = conn.execute(query).one()
        return int(count or 0), int(longest or 0)

    def joined(
        self, since: datetime | None = None, until: datetime | None = None
    ) -> list[tuple[DecisionRecord, dict[str, float]]]:
        """Decisions made in ``[since, until)`` with their outcomes, oldest first."""
        d, o = tables.decisions, tables.outcomes
        query = _in_window(sa.select(d).order_by(d.c.decided_at, d.c.decision_id), since, until)
        with self.engine.connect() as conn:
            records = [DecisionRecord.from_row(r) for r in conn.execute(query).mappings()]
            found: dict[str, dict[str, float]] = {r.decision_id: {} for r in records}
            ids = list(found)
            for start in range(0, len(ids), 500):
                chunk = ids[start : start + 500]
                rows = conn.execute(
                    sa.select(o.c.decision_id, o.c.name, o.c.value).where(
                        o.c.decision_id.in_(chunk)
                    )
                )
                for decision_id, name, value in rows:
                    found[decision_id][name] = value
        return [(r, found[r.decision_id]) for r in records]

    def close(self) -> None:
        """Release the engine's connections."""
        self.engine.dispose()


def open_store(url: str) -> DecisionStore:
    """Open the store at ``url`` and migrate it to the head revision.

    Raises:
        StoreError: the database cannot be reached or migrated (message redacted).
    """
    remember_uri(url)  # its password is masked wherever a driver echoes it
    try:
        engine = create_engine(url)
        migrate(engine)
    except Exception as exc:  # driver errors echo the URL: never let them out unredacted
        raise StoreError(
            f"cannot open the decision store {redact(url)}: {redact(exc)}"[:1000]
        ) from None
    return DecisionStore(engine)


def _in_window(query: _Query, since: datetime | None, until: datetime | None) -> _Query:
    """``query`` over the decisions made in ``[since, until)`` (an open side when None)."""
    decided_at = tables.decisions.c.decided_at
    if since is not None:
        query = query.where(decided_at >= as_utc(since))
    if until is not None:
        query = query.where(decided_at < as_utc(until))
    return query
