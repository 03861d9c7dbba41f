"""A randomised log whose run confirms nothing: the version serves the logging distribution and
is promoted, so ``engage serve`` serves it; every answer, in process and over real HTTP, draws
its style with the probability the fitted propensity model gives it and says so."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from engage import registry
from engage.policy.logging_policy import logging_options
from engage.policy.notes import LOGGING_SERVED
from engage.simulation.world import OUTCOMES, SimulatedWorld, write_log
from tests.conftest import sim_oracle, train_settings
from tests.servers import engage_serve

pytestmark = pytest.mark.slow  # one small training and a real server

ROWS = 1500
MODEL = "logging-policy"
DRAWS = 400  # decisions drawn for one profile over HTTP


@pytest.fixture(scope="module")
def randomised_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A log whose styles were drawn uniformly (propensity 0.2, recorded in the log) and whose
    outcomes were moved to other rows: nothing the policy can do changes them."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            SimulatedWorld, "logging_propensities", lambda self, p: np.full((len(p), 5), 0.2)
        )
        log = SimulatedWorld("hard", decisions="style").simulate(ROWS, seed=7)
    order = np.random.default_rng(7).permutation(ROWS)
    log[list(OUTCOMES)] = log[list(OUTCOMES)].to_numpy()[order]
    path = tmp_path_factory.mktemp("randomised") / "campaigns.parquet"
    write_log(log, path, world={"difficulty": "hard", "decisions": "style", "seed": 7})
    return path


@pytest.fixture(scope="module")
def run(mlflow_store: Path, randomised_log: Path):
    from engage.training.pipeline import train

    settings = train_settings(randomised_log, mlflow_store, model_name=MODEL)
    return train(settings, oracle=sim_oracle(randomised_log))


def _within(freq: np.ndarray, p: np.ndarray, n: int) -> None:
    """Empirical frequencies of ``n`` draws against their probabilities: within four standard
    errors (and 0.01), style by style."""
    tolerance = 4 * np.sqrt(p * (1 - p) / n) + 0.01
    assert np.all(np.abs(freq - p) <= tolerance), (freq.round(3), p.round(3))


def test_nothing_confirmed_promotes_the_logging_distribution(run) -> None:
    assert run.mode == "logging" and run.promoted, (run.mode, run.promotion_reason)
    assert "this is the logging distribution being served" in run.decision_reason
    assert run.metrics["policy.logging"] == 1.0
    # the figures said are the served distribution's, valued as a stochastic policy
    assert "decision.gain_vs_logged" in run.metrics and "ope.logging.dr" in run.metrics
    assert "true.logging" in run.metrics and np.isfinite(run.metrics["regret.shipped"])


def test_in_process_draws_follow_the_propensity_model(run) -> None:
    policy = registry.load_registered_policy(f"models:/{MODEL}@{registry.CHAMPION}")
    assert policy.mode == "logging"
    profiles = SimulatedWorld("hard").simulate(3000, seed=11)[policy.spec.context_names]
    answers = policy.recommend(profiles, top_k=5, explain=False)
    first = [a.recommendations[0] for a in answers]
    assert all(r.basis == "logging" and r.score is None for r in first)
    assert all(a.policy.mode == "logging" and LOGGING_SERVED in a.policy.note for a in answers)
    options = logging_options(policy, policy.builder.encode_context(profiles))
    styles = list(policy.spec.styles)
    drawn = np.bincount([styles.index(r.style) for r in first], minlength=len(styles))
    # over many profiles, each style is drawn as often as the model's propensities say
    _within(drawn / len(first), options.probability.mean(0), len(first))
    # every answer lists the action it would serve for each style, most likely next
    for a, p in zip(answers[:50], options.probability[:50], strict=True):
        assert {r.style for r in a.recommendations} == {
            s for s, q in zip(styles, p, strict=True) if q > 0
        }


@pytest.fixture(scope="module")
def server(run, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``engage serve`` on the champion of the logging model (it is promoted: no refusal)."""
    env = {**os.environ, "ENGAGE_SERVE_RELOAD_INTERVAL_S": "0", "ENGAGE_SERVE_ACCESS_LOG": "false"}
    args = ["--model-uri", f"models:/{MODEL}@{registry.CHAMPION}"]
    with engage_serve(tmp_path_factory.mktemp("serve"), env, args, timeout_s=60) as base:
        yield base


def test_over_http_each_decision_draws_its_style_with_its_propensity(run, server) -> None:
    policy = registry.load_registered_policy(f"models:/{MODEL}@{registry.CHAMPION}")
    profile = SimulatedWorld("hard").simulate(1, seed=5)[policy.spec.context_names]
    p = logging_options(policy, policy.builder.encode_context(profile)).probability[0]
    styles = list(policy.spec.styles)
    body = {"profile": json.loads(profile.to_json(orient="records"))[0], "top_k": 1}
    seen: Counter[str] = Counter()
    probability: dict[str, float] = {}
    ids = set()
    with httpx.Client(base_url=server, timeout=10) as client:
        for _ in range(DRAWS // 50):
            r = client.post("/v1/recommendations/batch", json={"profiles": [body["profile"]] * 50})
            assert r.status_code == 200, r.text
            for item in r.json()["results"]:
                first = item["recommendations"][0]
                assert first["basis"] == "logging" and first["density"] is None
                assert item["policy"]["mode"] == "logging"
                seen[first["style"]] += 1
                probability[first["style"]] = first["probability"]
                ids.add(item["decision_id"])
        one = client.post("/v1/recommendations", json=body)
        assert one.status_code == 200, one.text
        assert LOGGING_SERVED in one.json()["policy"]["note"]
    assert len(ids) == DRAWS
    # the probability served with a style is its propensity, renormalised over what may be served
    for style, q in probability.items():
        assert q == pytest.approx(p[styles.index(style)], rel=1e-9)
    freq = np.array([seen[s] for s in styles]) / DRAWS
    _within(freq, p, DRAWS)
