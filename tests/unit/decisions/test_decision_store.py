"""The decision store: migrations, records, outcome merging, export (SQLite here, and the same
tests on a real PostgreSQL server, slow, in tests/integration/test_decisions_postgres.py)."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pandas as pd
import pytest
import sqlalchemy as sa

from engage.contract.spec import load_spec
from engage.decisions.export import (
    density_columns,
    export_decisions,
    served_by_column,
    to_frame,
)
from engage.decisions.records import DecisionRecord, new_decision_id, utcnow
from engage.decisions.store import (
    DecisionStore,
    OutcomeProblem,
    StoreError,
    UnknownDecision,
    create_engine,
    migrate,
    open_store,
    schema_revision,
)

SPEC = load_spec()
PROFILE = {
    "industry": "software",
    "market": "b2b",
    "employees": 40,
    "innovation": 0.6,
    "shareability": 0.3,
    "sales_cycle_days": 60,
    "price_point": 900,
    "audience_tech_savviness": 0.8,
    "followers": 5200,
    "service_load": 0.2,
    "team_hours": 20,
    "goal": "leads",
    "ad_budget": 1500,
}
MIX = {"promotional": 0.2, "educational": 0.4, "conversational": 0.2, "visual": 0.1, "curated": 0.1}


def record(decided_at: datetime | None = None, probability: float = 0.28, **kw) -> DecisionRecord:
    values = dict(
        decision_id=new_decision_id(),
        decided_at=decided_at or utcnow(),
        model_name="m",
        model_version="3",
        run_id="r" * 32,
        model_uri="models:/m@champion",
        spec_name=SPEC.name,
        spec_fingerprint=SPEC.fingerprint,
        profile=PROFILE,
        style="thought_leadership",
        posting_mix=MIX,
        decisions={"posts_per_week": 5.0},
        probability=probability,
        method="epsilon",
        exploration={"epsilon": 0.9},
        objective={"conversions": 1.0},
        alternatives=[{"style": "thought_leadership", "probability": probability}],
        outcome_types={o.name: o.type for o in SPEC.outcomes},
    )
    values.update(kw)
    return DecisionRecord(**values)


def export_with_outcomes(records: list[DecisionRecord], tmp_path, name: str = "loop.parquet"):
    """``records`` written to a new store, every outcome posted (1.0), exported to ``name``."""
    store = open_store(f"sqlite:///{tmp_path / 'd.db'}")
    store.write(records)
    for r in records:
        store.merge_outcomes(r.decision_id, {o: 1.0 for o in SPEC.outcome_names}, None)
    out = export_decisions(store, SPEC, tmp_path / name)
    store.close()
    return out


@pytest.fixture
def store_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'sub' / 'decisions.db'}"


@pytest.fixture
def store(store_url) -> DecisionStore:
    s = open_store(store_url)
    yield s
    s.close()


def test_migrations_take_an_empty_database_to_head_once(store_url):
    engine = create_engine(store_url)
    assert schema_revision(engine) is None
    migrate(engine)
    assert schema_revision(engine) == "0002"
    migrate(engine)  # already at head: nothing to do
    names = set(sa.inspect(engine).get_table_names())
    assert {"engage_decisions", "engage_outcomes", "engage_decisions_alembic_version"} <= names
    assert "alembic_version" not in names  # MLflow's table name stays free
    engine.dispose()


def test_a_store_of_the_first_schema_is_migrated_and_its_decisions_read_without_density(
    store_url,
):
    from alembic import command
    from alembic.config import Config

    from engage.decisions.store import MIGRATIONS

    engine = create_engine(store_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
    old = record()
    row = old.row()
    del row["density"]
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO engage_decisions (decision_id, decided_at, model_name, model_version, "
                "run_id, model_uri, spec_name, spec_fingerprint, style, probability, method, payload) "
                "VALUES (:decision_id, :decided_at, :model_name, :model_version, :run_id, :model_uri, "
                ":spec_name, :spec_fingerprint, :style, :probability, :method, :payload)"
            ),
            {
                **row,
                "payload": __import__("json").dumps(
                    {k: v for k, v in row["payload"].items() if k != "continuous"}
                ),
            },
        )
    engine.dispose()
    s = open_store(store_url)  # migrates to head
    try:
        back = s.get(old.decision_id)
        assert back is not None and back.density is None and back.continuous == {}
        explored = record(density=3.5, continuous={"mix_concentration": 30.0})
        s.write([explored])
        assert s.get(explored.decision_id) == explored
    finally:
        s.close()


def test_a_record_comes_back_as_written(store):
    rec = record()
    assert store.write([rec]) == 1
    back = store.get(rec.decision_id)
    assert back == rec
    assert store.get(new_decision_id()) is None
    assert store.count() == 1


def test_writing_a_decision_again_neither_duplicates_nor_fails(store):
    """The spool replays what it cannot know was stored: a rewrite must be harmless."""
    first, other = record(), record()
    store.write([first])
    store.merge_outcomes(first.decision_id, {"conversions": 1.0})
    assert store.write([first, other, first]) == 3
    assert store.count() == 2
    assert store.get(first.decision_id) == first
    assert store.outcomes(first.decision_id) == {"conversions": 1.0}  # its outcomes kept


def test_a_record_survives_its_json_line():
    rec = record(probability=0.1 + 0.2)
    assert DecisionRecord.from_json(rec.to_json()) == rec


def test_partial_outcomes_merge_and_identical_repeats_change_nothing(store):
    rec = record()
    store.write([rec])
    first = store.merge_outcomes(rec.decision_id, {"conversions": 4.5})
    assert first.added == ["conversions"] and first.outcomes == {"conversions": 4.5}
    assert set(first.missing) == {"engagement_rate", "follower_growth", "retention_30d"}
    later = store.merge_outcomes(rec.decision_id, {"engagement_rate": 2, "conversions": 4.5})
    assert later.added == ["engagement_rate"]
    assert later.outcomes == {"conversions": 4.5, "engagement_rate": 2.0}
    again = store.merge_outcomes(rec.decision_id, {"engagement_rate": 2.0})
    assert again.added == [] and again.outcomes == later.outcomes
    assert store.outcomes(rec.decision_id) == later.outcomes


def test_a_second_different_value_is_a_conflict_naming_the_outcome(store):
    rec = record()
    store.write([rec])
    store.merge_outcomes(rec.decision_id, {"conversions": 4.5})
    with pytest.raises(OutcomeProblem) as err:
        store.merge_outcomes(rec.decision_id, {"conversions": 5.0, "engagement_rate": 1.0})
    assert err.value.kind == "conflict"
    assert [f for f, _ in err.value.details] == ["outcomes.conversions"]
    # nothing of the refused post was kept
    assert store.outcomes(rec.decision_id) == {"conversions": 4.5}


@pytest.mark.parametrize(
    "values, field",
    [
        ({"revenue": 1.0}, "outcomes.revenue"),
        ({"conversions": "4"}, "outcomes.conversions"),
        ({"conversions": True}, "outcomes.conversions"),
        ({"conversions": math.nan}, "outcomes.conversions"),
        ({"conversions": math.inf}, "outcomes.conversions"),
        ({"conversions": 10**400}, "outcomes.conversions"),
    ],
)
def test_invalid_outcomes_are_refused_naming_the_field(store, values, field):
    rec = record()
    store.write([rec])
    with pytest.raises(OutcomeProblem) as err:
        store.merge_outcomes(rec.decision_id, values)
    assert err.value.kind == "invalid"
    assert field in [f for f, _ in err.value.details]
    assert store.outcomes(rec.decision_id) == {}


def test_binary_outcomes_take_booleans_or_0_and_1(store):
    rec = record(outcome_types={"converted": "binary"})
    store.write([rec])
    assert store.merge_outcomes(rec.decision_id, {"converted": True}).outcomes == {"converted": 1.0}
    with pytest.raises(OutcomeProblem):
        store.merge_outcomes(rec.decision_id, {"converted": 2})


def test_unknown_decision_is_named(store):
    with pytest.raises(UnknownDecision, match="nope"):
        store.merge_outcomes("nope", {"conversions": 1.0})


def test_window_and_export_in_the_specs_format(store, tmp_path):
    t0 = datetime(2026, 11, 1, 12, 0)
    recs = [record(t0 + timedelta(days=i), probability=0.1 * (i + 1)) for i in range(4)]
    store.write(recs)
    full = {
        "conversions": 1.0,
        "engagement_rate": 2.0,
        "follower_growth": 0.5,
        "retention_30d": 40.0,
    }
    store.merge_outcomes(recs[1].decision_id, full)
    store.merge_outcomes(recs[2].decision_id, {"conversions": 3.0})
    window = store.joined(t0 + timedelta(days=1), t0 + timedelta(days=3))
    assert [r.decision_id for r, _ in window] == [recs[1].decision_id, recs[2].decision_id]

    frame = to_frame(SPEC, window)
    extra = [*density_columns(SPEC).values(), served_by_column(SPEC)]
    assert list(frame.columns) == SPEC.declared_columns + extra  # what carried_columns names
    assert frame["logged_propensity_density"].isna().all()  # served without full exploration
    assert frame["logged_propensity_served_by"].tolist() == ["m/3", "m/3"]  # who served it
    assert frame["logged_propensity"].tolist() == pytest.approx([0.2, 0.3])
    assert frame["campaign_id"].tolist() == [recs[1].decision_id, recs[2].decision_id]
    assert frame["mix_educational"].tolist() == [0.4, 0.4]
    assert math.isnan(frame["engagement_rate"].iloc[1])

    out = export_decisions(store, SPEC, tmp_path / "log.parquet", complete_only=True)
    assert (out.rows, out.complete) == (1, 1)
    assert out.incomplete_skipped == 3
    written = pd.read_parquet(out.log)
    assert written["conversions"].tolist() == [1.0]
    assert load_spec(out.spec).propensity_column == "logged_propensity"
    with pytest.raises(ValueError, match="no decision of spec"):
        export_decisions(store, SPEC, tmp_path / "x.parquet", since=t0 + timedelta(days=30))


def test_an_unreachable_store_is_a_store_error_without_the_password():
    with pytest.raises(StoreError) as err:
        open_store("postgresql+psycopg://engage:s3cret-pw@127.0.0.1:1/decisions")
    assert "s3cret-pw" not in str(err.value)
    assert "127.0.0.1" in str(err.value)


def test_settings_refuse_unknown_variables_and_hide_the_url(monkeypatch):
    from engage.decisions.settings import DecisionSettings

    monkeypatch.setenv("ENGAGE_DECISIONS_URL", "postgresql+psycopg://u:s3cret-pw@db/x")
    settings = DecisionSettings()
    assert settings.store_url().endswith("@db/x")
    assert "s3cret-pw" not in repr(settings)
    monkeypatch.setenv("ENGAGE_DECISIONS_QUEUE_SIZ", "5")
    with pytest.raises(ValueError, match="ENGAGE_DECISIONS_QUEUE_SIZ"):
        DecisionSettings()
