"""Decision ids, served probabilities and POST /v1/outcomes, on the committed fixture policy
(a real HTTP app through TestClient, a real SQLite decision store)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from engage.decisions.settings import DecisionSettings
from engage.policy.artifact import load_policy
from engage.policy.exploration import (
    MIX_CONCENTRATION,
    Exploration,
    continuous_density,
    distribution,
)
from engage.serving import exploring
from engage.serving.app import create_app
from engage.serving.examples import EXAMPLE_PROFILE
from engage.serving.model import LoadedModel
from engage.serving.scoring import Question, answer_rows
from engage.serving.settings import ServeSettings

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "policy"
KEY = "k" * 24
URL = "/v1/recommendations"


@pytest.fixture(scope="module")
def fixture_model() -> LoadedModel:
    return LoadedModel.from_policy(load_policy(FIXTURE), "tests/fixtures/policy")


@pytest.fixture
def serve(tmp_path: Path, fixture_model: LoadedModel):
    clients: list[TestClient] = []

    def start(decisions: dict[str, Any] | None = None, **overrides: Any) -> TestClient:
        settings = ServeSettings(
            model_uri="models:/no-such-policy@champion",
            tracking_uri=f"sqlite:///{tmp_path / 'no-store' / 'mlflow.db'}",
            reload_interval_s=0,
            startup_wait_s=0,
            **overrides,
        )
        store = DecisionSettings(
            **{"url": f"sqlite:///{tmp_path / 'decisions.db'}", **(decisions or {})}
        )
        client = TestClient(create_app(settings, store))
        client.__enter__()
        clients.append(client)
        client.app.state.models.install(fixture_model)
        return client

    yield start
    for client in clients:
        client.__exit__(None, None, None)


def stored(client: TestClient, decision_id: str):
    writer = client.app.state.decisions
    assert writer.flush(10)
    return writer.store.get(decision_id)


def metric(client: TestClient, name: str) -> float:
    return client.app.state.metrics.registry.get_sample_value(name) or 0.0


def test_greedy_answers_are_the_policys_with_a_decision_id_and_probability_one(
    serve, fixture_model
):
    client = serve()
    body = client.post(URL, json={"profile": EXAMPLE_PROFILE, "top_k": 3}).json()
    row = fixture_model.contract.profile_row(EXAMPLE_PROFILE)
    plain = answer_rows([row], Question(fixture_model, 3, None, None, True))[0].model_dump(
        mode="json"
    )
    assert body["recommendations"][0]["probability"] == 1.0
    assert all(r["probability"] is None for r in body["recommendations"][1:])
    for r in body["recommendations"]:
        r["probability"] = None
    assert body["recommendations"] == plain["recommendations"]
    assert body["explanation"] == plain["explanation"]
    other = client.post(URL, json={"profile": EXAMPLE_PROFILE, "top_k": 3}).json()
    assert other["decision_id"] != body["decision_id"]
    rec = stored(client, body["decision_id"])
    assert (rec.style, rec.probability, rec.method) == (
        body["recommendations"][0]["style"],
        1.0,
        "greedy",
    )
    assert rec.profile == dict(zip(fixture_model.policy.spec.context_names, row, strict=True))
    assert rec.model_uri == "tests/fixtures/policy"
    assert rec.alternatives[0]["style"] == rec.style


@pytest.mark.parametrize(
    "option", [{"method": "epsilon", "epsilon": 0.8}, {"method": "softmax", "temperature": 0.5}]
)
def test_recorded_probability_is_the_drawing_distributions(serve, fixture_model, option):
    client = serve()
    row = fixture_model.contract.profile_row(EXAMPLE_PROFILE)
    n_styles = len(fixture_model.policy.spec.styles)
    plain = answer_rows([row], Question(fixture_model, n_styles, None, None, False))[0]
    styles = [r.style for r in plain.recommendations]
    expected = distribution([r.score for r in plain.recommendations], 0, Exploration(**option))
    # enough draws that one style alone comes up with a chance below 1e-9 (15 draws of a
    # softmax whose first style has 0.8 gave one style only 1 time in 30)
    assert max(expected) < 1
    draws = int(np.ceil(np.log(1e-9) / np.log(float(max(expected)))))
    served = []
    for i in range(draws):
        body = client.post(
            URL, json={"profile": EXAMPLE_PROFILE, "top_k": 2, "exploration": option}
        ).json()
        first = body["recommendations"][0]
        assert len(body["recommendations"]) == 2
        j = styles.index(first["style"])
        assert first["probability"] == pytest.approx(expected[j], rel=1e-12)
        if i < 15:  # the stored record, for the first few
            rec = stored(client, body["decision_id"])
            assert rec.probability == first["probability"]
            assert [a["probability"] for a in rec.alternatives] == pytest.approx(expected.tolist())
        served.append(first["style"])
        if j != 0:
            assert body["explanation"] is None  # it explained the policy's choice, not this one
    assert len(set(served)) > 1


def test_exploration_never_leaves_the_constraints_or_the_support(serve, fixture_model):
    client = serve(exploration="epsilon", exploration_epsilon=1.0)
    allowed = ["community", "conversational"]
    for _ in range(30):
        body = client.post(
            URL,
            json={
                "profile": EXAMPLE_PROFILE,
                "constraints": {"styles": allowed, "max_posts_per_week": 8},
            },
        ).json()
        for r in body["recommendations"]:
            assert r["style"] in allowed and r["support"]["within_support"]
            assert r["decisions"]["posts_per_week"] <= 8
        assert body["recommendations"][0]["probability"] in (pytest.approx(0.5),)


def test_the_setting_turns_exploration_on_and_a_request_can_turn_it_off(serve):
    client = serve(exploration="epsilon", exploration_epsilon=0.5)
    on = client.post(URL, json={"profile": EXAMPLE_PROFILE}).json()
    assert on["recommendations"][0]["probability"] < 1.0
    off = client.post(
        URL, json={"profile": EXAMPLE_PROFILE, "exploration": {"method": "greedy"}}
    ).json()
    assert off["recommendations"][0]["probability"] == 1.0


def test_batch_items_each_carry_a_decision(serve):
    client = serve()
    r = client.post(
        f"{URL}/batch",
        json={
            "profiles": [EXAMPLE_PROFILE] * 3,
            "exploration": {"method": "epsilon", "epsilon": 1},
        },
    )
    items = r.json()["results"]
    ids = [i["decision_id"] for i in items]
    assert len(set(ids)) == 3
    for item in items:
        assert (
            stored(client, item["decision_id"]).probability
            == item["recommendations"][0]["probability"]
        )


# ---------------------------------------------------------------------- outcomes


def decide(client: TestClient) -> str:
    return client.post(URL, json={"profile": EXAMPLE_PROFILE, "explain": False}).json()[
        "decision_id"
    ]


def test_outcomes_merge_repeat_and_complete(serve):
    client = serve()
    did = decide(client)
    r = client.post("/v1/outcomes", json={"decision_id": did, "outcomes": {"conversions": 4.2}})
    assert r.status_code == 200, r.text
    assert r.json()["added"] == ["conversions"] and not r.json()["complete"]
    again = client.post("/v1/outcomes", json={"decision_id": did, "outcomes": {"conversions": 4.2}})
    assert again.status_code == 200 and again.json()["added"] == []
    rest = {"engagement_rate": 2.5, "follower_growth": 0.4, "retention_30d": 50}
    done = client.post(
        "/v1/outcomes",
        json={"decision_id": did, "outcomes": rest, "observed_at": "2026-12-30T10:00:00Z"},
    ).json()
    assert done["complete"] and done["missing"] == []
    assert done["outcomes"] == {"conversions": 4.2, **{k: float(v) for k, v in rest.items()}}
    assert (
        client.app.state.metrics.registry.get_sample_value(
            "engage_outcomes_posted_total", {"result": "repeated"}
        )
        == 1.0
    )


@pytest.mark.parametrize(
    "outcomes, status, field",
    [
        ({"revenue": 1.0}, 422, "outcomes.revenue"),
        ({"conversions": "4.2"}, 422, "outcomes.conversions"),
        ({"conversions": None}, 422, "outcomes.conversions"),
        ({"conversions": 9.9}, 409, "outcomes.conversions"),
    ],
)
def test_bad_outcomes_are_refused_naming_the_field(serve, outcomes, status, field):
    client = serve()
    did = decide(client)
    assert (
        client.post(
            "/v1/outcomes", json={"decision_id": did, "outcomes": {"conversions": 4.2}}
        ).status_code
        == 200
    )
    r = client.post("/v1/outcomes", json={"decision_id": did, "outcomes": outcomes})
    assert r.status_code == status, r.text
    assert field in [d["field"] for d in r.json()["error"]["details"]]


def test_non_finite_outcome_is_refused(serve):
    client = serve()
    did = decide(client)
    r = client.post(
        "/v1/outcomes",
        content=f'{{"decision_id": "{did}", "outcomes": {{"conversions": NaN}}}}',
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert "outcomes.conversions" in r.text


def test_unknown_decision_is_a_404_naming_it(serve):
    client = serve()
    r = client.post(
        "/v1/outcomes", json={"decision_id": "no-such-id", "outcomes": {"conversions": 1}}
    )
    assert r.status_code == 404
    assert "no-such-id" in r.json()["error"]["message"]


def shipper_fails(writer) -> None:
    """The store refuses the shipper's writes (an outage as the spool sees it); other threads'
    writes (an outcome post delivering its decision) go through."""
    real = writer.store.write

    def write(records):
        if threading.current_thread().name == "decision-shipper":
            raise OSError("store down (test)")
        return real(records)

    writer.store.write = write


def test_an_outcome_for_a_spooled_decision_is_accepted(serve):
    client = serve()
    writer = client.app.state.decisions
    assert writer.wait_ready(10)
    shipper_fails(writer)
    did = decide(client)
    assert writer.pending(did) is not None  # queued or spooled, not in the store
    assert writer.store.get(did) is None
    r = client.post("/v1/outcomes", json={"decision_id": did, "outcomes": {"conversions": 1.5}})
    assert r.status_code == 200, r.text
    assert writer.store.outcomes(did) == {"conversions": 1.5}
    del writer.store.write  # the store is back: the spool replays it, harmlessly
    assert writer.flush(20)
    assert writer.store.count() == 1
    assert writer.store.outcomes(did) == {"conversions": 1.5}


def test_outcomes_need_the_api_key_when_keys_are_configured(serve):
    client = serve(api_keys=KEY)
    body = {"decision_id": "x", "outcomes": {"conversions": 1}}
    assert client.post("/v1/outcomes", json=body).status_code == 401
    assert client.post("/v1/outcomes", json=body, headers={"X-API-Key": KEY}).status_code == 404


@pytest.mark.slow  # waits for a store that never opens
def test_requests_keep_answering_and_spooling_when_the_store_is_down(serve):
    down = {"url": "postgresql+psycopg://engage:s3cret-pw@127.0.0.1:1/decisions"}
    client = serve(decisions=down)
    ids = [decide(client) for _ in range(4)]
    writer = client.app.state.decisions
    deadline = time.monotonic() + 10
    while writer.spooled() < 4 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert metric(client, "engage_decisions_spooled") == 4.0
    assert metric(client, "engage_decisions_dropped_total") == 0.0
    assert metric(client, "engage_decisions_store_up") == 0.0
    r = client.post("/v1/outcomes", json={"decision_id": ids[0], "outcomes": {"conversions": 1}})
    assert r.status_code == 503  # not 404: the decision is kept, the store is away
    assert "s3cret-pw" not in r.text


def test_a_full_spool_refuses_new_decisions_with_503_and_counts_them(serve):
    client = serve()
    writer = client.app.state.decisions
    assert writer.wait_ready(10)
    shipper_fails(writer)
    writer.spool_max_bytes = 1  # any spooled record fills it
    did = decide(client)
    deadline = time.monotonic() + 10
    while writer.spooled() < 1 and time.monotonic() < deadline:
        time.sleep(0.01)
    for url, body in (
        (URL, {"profile": EXAMPLE_PROFILE}),
        (URL + "/batch", {"profiles": [EXAMPLE_PROFILE]}),
    ):
        r = client.post(url, json=body)
        assert r.status_code == 503, r.text
        assert r.json()["error"]["code"] == "decisions_unavailable"
        assert "spool is full" in r.json()["error"]["message"]
    assert metric(client, "engage_decisions_refused_total") == 2.0
    assert writer.pending(did) is not None  # what was accepted is kept


def test_a_decision_the_queue_refuses_is_not_answered_with_an_id(serve):
    client = serve()
    writer = client.app.state.decisions
    writer.submit = lambda record: False  # the queue filled after the route's check
    r = client.post(URL, json={"profile": EXAMPLE_PROFILE})
    assert r.status_code == 503, r.text
    assert r.json()["error"]["code"] == "decisions_unavailable"
    assert metric(client, "engage_decisions_refused_total") == 1.0


def test_a_decision_is_in_the_spool_before_its_id_is_answered(serve, monkeypatch):
    """A SIGKILL right after the answer cannot lose the decision: the spool's fsync came first."""
    from engage.decisions.spool import Spool

    append = Spool.append

    def slow_append(self, records):
        time.sleep(0.2)
        append(self, records)

    monkeypatch.setattr(Spool, "append", slow_append)
    client = serve()
    writer = client.app.state.decisions
    for _ in range(3):
        did = decide(client)
        with writer._lock:
            assert did not in writer._queued  # not only in memory
        assert writer.pending(did) is not None or writer.store.get(did) is not None


# ---------------------------------------------------------------------- full-action exploration

FULL = {"method": "epsilon", "epsilon": 0.5, "full": True}


def _centre(rec, spec):
    """The policy's mix and numeric decisions of the served style (the draw's centre)."""
    option = next(a for a in rec.alternatives if a["style"] == rec.style)
    mix = np.array([option["posting_mix"][c.removeprefix("mix_")] for c in spec.mix_columns])
    return mix / mix.sum(), np.array([float(option["decisions"]["posts_per_week"])])


def test_full_exploration_records_the_density_of_the_distribution_that_drew_it(
    serve, fixture_model
):
    client = serve()
    spec = fixture_model.policy.spec
    row = fixture_model.contract.profile_row(EXAMPLE_PROFILE)
    where = exploring.continuous_of(fixture_model.policy, None, row, None).where
    moved = 0
    for _ in range(10):
        body = client.post(
            URL, json={"profile": EXAMPLE_PROFILE, "top_k": 1, "exploration": FULL}
        ).json()
        first = body["recommendations"][0]
        rec = stored(client, body["decision_id"])
        assert rec.density == first["density"] and rec.density > 0
        mix, numeric = _centre(rec, spec)
        served_mix = np.array([rec.posting_mix[c.removeprefix("mix_")] for c in spec.mix_columns])
        served_num = np.array([rec.decisions["posts_per_week"]])
        assert served_mix == pytest.approx([first["posting_mix"][k] for k in rec.posting_mix])
        p = rec.continuous
        expected = continuous_density(
            served_mix,
            served_num,
            mix,
            numeric,
            where,
            p["mix_contraction"],
            np.array(p["half_width"]),
        )
        assert rec.density == pytest.approx(expected, rel=1e-9)
        assert rec.exploration["cost"] >= -1e9 and p["mix_concentration"] == MIX_CONCENTRATION
        moved += not np.allclose(served_mix, mix)
    assert moved == 10  # a continuous draw never lands exactly on the centre


def test_full_exploration_keeps_to_the_constraints_and_declared_ranges(serve, fixture_model):
    client = serve()
    for _ in range(25):
        r = client.post(
            URL,
            json={
                "profile": EXAMPLE_PROFILE,
                "top_k": 1,
                "exploration": FULL,
                "constraints": {"max_posts_per_week": 8, "max_share_promotional": 0.3},
            },
        )
        assert r.status_code == 200, r.text
        first = r.json()["recommendations"][0]
        assert 1.0 <= first["decisions"]["posts_per_week"] <= 8.0 + 1e-9
        assert first["posting_mix"]["promotional"] <= 0.3 + 1e-9
        assert sum(first["posting_mix"].values()) == pytest.approx(1.0)


def test_a_zero_budget_explores_nothing_and_the_service_budget_holds(serve):
    client = serve()
    body = client.post(
        URL, json={"profile": EXAMPLE_PROFILE, "exploration": {**FULL, "budget": 0.0}}
    ).json()
    first = body["recommendations"][0]
    rec = stored(client, body["decision_id"])
    assert first["density"] is None or rec.exploration["cost"] <= 1e-12
    assert rec.exploration["cost"] <= 1e-12
    capped = serve(exploration_service_budget=0.01)
    for _ in range(15):
        capped.post(URL, json={"profile": EXAMPLE_PROFILE, "exploration": FULL})
    mean = metric(capped, "engage_exploration_cost_mean")
    assert 0.0 <= mean <= 0.01 + 1e-12


def test_the_budgets_objective_is_the_models_prediction_of_each_drawn_action(fixture_model):
    # the fast path (one encoded row, mix and numeric columns overwritten) equals encoding each
    # drawn action as a frame
    import pandas as pd

    from engage.policy.scoring import weighted

    policy = fixture_model.policy
    spec = policy.spec
    row = fixture_model.contract.profile_row(EXAMPLE_PROFILE)
    rec = answer_rows([row], Question(fixture_model, 1, None, None, False))[0].recommendations[0]
    objective = exploring.continuous_of(policy, None, row, None).objective(rec)
    rng = np.random.default_rng(0)
    mixes = rng.dirichlet(np.ones(len(spec.mix_columns)), size=4)
    nums = rng.uniform(2, 20, size=(4, 1))
    frame = pd.DataFrame([{spec.style.name: rec.style, **dict(rec.decisions)} for _ in range(4)])
    frame[spec.mix_columns] = mixes
    frame["posts_per_week"] = nums[:, 0]
    X = np.hstack(
        [
            np.repeat(policy.builder.encode_rows([row]), 4, axis=0),
            policy.builder.encode_decisions(frame[spec.decision_names]),
        ]
    )
    expected = weighted(policy.predict_outcomes(X), policy.weights(None))
    assert objective(mixes, nums) == pytest.approx(expected)
