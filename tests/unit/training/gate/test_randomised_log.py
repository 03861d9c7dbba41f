"""A randomised log (every style drawn with the same probability, recorded in the log): the
gate judges against the logging policy itself, on every row, and serves its distribution when
nothing is confidently better."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engage.contract.spec import load_spec
from engage.contract.validation import validate_log
from engage.simulation.world import OUTCOMES, SimulatedWorld
from engage.training.gate import decide_shipping, decided_values
from engage.training.objective import objective_values
from engage.training.settings import TrainSettings
from tests.unit.training.gate.steps import gate_on

pytestmark = pytest.mark.slow  # two small trainings, seconds each

ROWS = 1500


def _randomised_log(monkeypatch, *, shuffled: bool):
    """A log whose styles were drawn uniformly; ``shuffled``: its outcomes moved to other rows
    (so nothing the policy can do changes them)."""
    monkeypatch.setattr(
        SimulatedWorld, "logging_propensities", lambda self, p: np.full((len(p), 5), 0.2)
    )
    log = SimulatedWorld("hard", decisions="style").simulate(ROWS, seed=7)
    if shuffled:
        order = np.random.default_rng(7).permutation(ROWS)
        log[list(OUTCOMES)] = log[list(OUTCOMES)].to_numpy()[order]
    return log


def _judge(log):
    spec = load_spec()
    settings = TrainSettings(data=Path("unused.parquet"), trials=0, n_boot=50)
    weights = spec.outcome_weights(settings.objective)
    clean = validate_log(log, spec).clean
    _, evaluation = gate_on(clean, spec, settings)
    return clean, weights, evaluation, decide_shipping(evaluation)


def test_a_randomised_log_is_judged_against_its_randomisation_on_every_row(monkeypatch) -> None:
    clean, weights, evaluation, decision = _judge(_randomised_log(monkeypatch, shuffled=False))
    assert np.allclose(clean["logged_propensity"], 0.2)
    assert evaluation.params["ope_propensity"] == "logged" and evaluation.logging_baseline
    assert evaluation.gate_rows == len(clean) == ROWS
    # the logging policy's value is the observed mean of every row
    observed = objective_values({o: clean[o].to_numpy(float) for o in weights}, weights)
    assert evaluation.values["logged"]["observed"][0] == pytest.approx(observed.mean())
    gains = evaluation.gains
    if decision.mode == "personalized":
        assert gains["learned"].low > 0 and not decision.keeps_logging
    elif decision.mode == "constant":
        assert gains["best_constant"].low > 0 and not decision.keeps_logging
    else:
        assert decision.keeps_logging and decision.mode == "logging"


def test_where_nothing_is_confidently_better_the_randomisation_is_served(monkeypatch) -> None:
    _, _, evaluation, decision = _judge(_randomised_log(monkeypatch, shuffled=True))
    assert evaluation.gains["learned"].low <= 0 and evaluation.gains["best_constant"].low < 0
    assert decision.keeps_logging and decision.mode == "logging"
    assert "this is the logging distribution being served" in decision.reason
    assert decision.tags["policy_keeps_logging"] == "true"
    values = decided_values(evaluation, decision)
    assert values["shipped"] == values["logging"] and decision.gain == evaluation.gains["logging"]
    # the served distribution: the propensity model's, over the styles each profile may be served
    probability = evaluation.logging.on_eval.probability
    assert np.allclose(probability.sum(1), 1.0)
    # outcomes moved at random: serving the logging distribution changes nothing (as served, its
    # typical plans rest on the valuing models, so its interval is theirs)
    assert evaluation.gains["logging"].low < 0 < evaluation.gains["logging"].high
