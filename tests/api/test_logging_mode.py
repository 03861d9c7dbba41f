"""A logging policy (mode ``logging``) over HTTP, on the fixture policy: each decision's style
is drawn from the logging distribution with the decision id, its probability is the style's
propensity (renormalised over what may be served), and the answer says what is served."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from engage.policy.logging_policy import logging_options
from engage.policy.notes import LOGGING_SERVED
from engage.serving.model import LoadedModel
from tests.fixture_app import serving

REPO = Path(__file__).resolve().parents[2]
PROFILE = json.loads((REPO / "examples" / "recommendation_request.json").read_text())["profile"]
BATCH = "/v1/recommendations/batch"
DRAWS = 600


@pytest.fixture(scope="module")
def logging_model(fixture_model: LoadedModel) -> LoadedModel:
    policy = dataclasses.replace(fixture_model.policy, mode="logging")
    return LoadedModel.from_policy(policy, fixture_model.uri)


@pytest.fixture(scope="module")
def client(logging_model, tmp_path_factory) -> Iterator[TestClient]:
    with serving(logging_model, tmp_path_factory.mktemp("serve")) as c:
        yield c


def _served(client: TestClient, profile: dict, n: int, **extra) -> list[dict]:
    items: list[dict] = []
    while len(items) < n:
        body = {"profiles": [profile] * min(100, n - len(items)), "top_k": 2, **extra}
        r = client.post(BATCH, json=body)
        assert r.status_code == 200, r.text
        items += r.json()["results"]
    return items


def _probabilities(model: LoadedModel, profile: dict, constraints=None) -> np.ndarray:
    policy = model.policy
    row = model.contract.profile_row(profile)
    context = policy.builder.encode_rows([row])
    return logging_options(policy, context, constraints=constraints).probability[0]


def _within(freq: np.ndarray, p: np.ndarray, n: int) -> None:
    tolerance = 4 * np.sqrt(p * (1 - p) / n) + 0.01
    assert np.all(np.abs(freq - p) <= tolerance), (freq.round(3), p.round(3))


def _profile() -> dict:
    # a profile whose propensities are spread, so the draw is worth testing
    return {**PROFILE, "industry": "software", "market": "b2b"}


def test_styles_are_drawn_with_their_propensity_per_decision(client, logging_model) -> None:
    profile = _profile()
    p = _probabilities(logging_model, profile)
    assert (p > 0.05).sum() >= 2, p  # more than one style is likely
    styles = list(logging_model.policy.spec.styles)
    items = _served(client, profile, DRAWS)
    assert len({i["decision_id"] for i in items}) == DRAWS
    counts: Counter[str] = Counter()
    for item in items:
        first, second = item["recommendations"]
        assert item["policy"]["mode"] == "logging" and LOGGING_SERVED in item["policy"]["note"]
        assert first["basis"] == second["basis"] == "logging"
        assert first["score"] is None and first["density"] is None
        # the probability served with the style is its propensity, renormalised
        assert first["probability"] == pytest.approx(p[styles.index(first["style"])], rel=1e-9)
        assert second["probability"] is None and second["style"] != first["style"]
        counts[first["style"]] += 1
    _within(np.array([counts[s] for s in styles]) / DRAWS, p, DRAWS)


def test_a_requests_exploration_does_not_apply_to_a_logging_policy(client, logging_model) -> None:
    profile = _profile()
    p = _probabilities(logging_model, profile)
    styles = list(logging_model.policy.spec.styles)
    items = _served(client, profile, 50, exploration={"method": "epsilon", "epsilon": 1.0})
    for item in items:
        first = item["recommendations"][0]
        assert first["basis"] == "logging"
        assert first["probability"] == pytest.approx(p[styles.index(first["style"])], rel=1e-9)


def test_constraints_take_a_style_out_of_the_draw(client, logging_model) -> None:
    from engage.policy.constraints import Constraints

    profile = _profile()
    styles = list(logging_model.policy.spec.styles)
    likeliest = styles[int(np.argmax(_probabilities(logging_model, profile)))]
    allowed = [s for s in styles if s != likeliest]
    p = _probabilities(logging_model, profile, Constraints(styles=allowed))
    assert p[styles.index(likeliest)] == 0 and p.sum() == pytest.approx(1.0)
    items = _served(client, profile, 200, constraints={"styles": allowed})
    for item in items:
        first = item["recommendations"][0]
        assert first["style"] != likeliest
        assert first["probability"] == pytest.approx(p[styles.index(first["style"])], rel=1e-9)


def test_the_same_decision_id_gives_the_same_draw() -> None:
    from engage.decisions.capture import draw_logging
    from engage.policy.exploration import draw_seed

    class Rec:
        def __init__(self, style: str, propensity: float) -> None:
            self.style, self.model_score = style, 0.0
            self.posting_mix, self.decisions = {}, {}
            self.support = type("S", (), {"propensity": propensity})()

    recs = [Rec("a", 0.5), Rec("b", 0.3), Rec("c", 0.1)]
    draws = {draw_logging(recs, {"x": 1}, f"id-{i}", 3).recommendations[0].style for i in range(50)}
    assert draws == {"a", "b", "c"}
    again = [draw_logging(recs, {"x": 1}, "id-7", 3) for _ in range(3)]
    assert len({s.recommendations[0].style for s in again}) == 1
    served = again[0]
    assert served.method == "logging" and served.density is None
    assert served.probability == pytest.approx(
        {"a": 5 / 9, "b": 3 / 9, "c": 1 / 9}[served.recommendations[0].style]
    )
    assert draw_seed({"x": 1}, "id-7") == draw_seed({"x": 1}, "id-7")
