"""A small training run without MLflow, as the report sees it: the steps of ``train()`` on a
simulated log of a few thousand rows (a few seconds), shared by the report's unit and
rendering tests."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from engage.contract.spec import load_spec
from engage.contract.validation import validate_log
from engage.simulation.oracle import WorldOracle
from engage.simulation.world import SimulatedWorld
from engage.training.gate import decide_shipping, decided_values, evaluate_offpolicy
from engage.training.models import DEFAULT_PARAMS, FitLog
from engage.training.nuisance import Nuisance, fit_outcome_models, fit_propensity_model
from engage.training.oracle import measure_truth, with_truth
from engage.training.report import ReportInputs
from engage.training.selection import select_policy
from engage.training.settings import TrainSettings
from engage.training.shipping import shipped_policy
from engage.training.split import make_split
from tests.constants import DEFAULTS, training_constants


def small_run_inputs(
    rows: int = 1500,
    *,
    difficulty: str = "hard",
    objective: dict[str, float] | None = None,
    seed: int = 2,
    fast: bool = True,
    oracle: bool = False,
    ship: str | None = None,
) -> ReportInputs:
    """The report inputs of a run on ``rows`` simulated campaigns, a few of them broken.

    Args:
        rows: campaigns simulated.
        difficulty: the simulated world's difficulty.
        objective: the run's objective (None: the spec's weights).
        seed: the simulation's seed.
        fast: fewer folds, candidates and bootstrap draws (for unit tests).
        oracle: value the policies with the world's oracle (``true`` values).
        ship: the mode to ship whatever the gate decides (tests of how a report words a
            personalised, constant or baseline policy); None: the gate's decision.
    """
    small = dict(folds=2, mix_prototypes=2, decision_quantiles=2, style_correction_rounds=10)
    with training_constants(**{**(small if fast else DEFAULTS), "oracle_rows": 500}):
        return _run(rows, difficulty, objective, seed, fast, oracle, ship)


def _run(
    rows: int,
    difficulty: str,
    objective: dict[str, float] | None,
    seed: int,
    fast: bool,
    oracle: bool,
    ship: str | None,
) -> ReportInputs:
    spec = load_spec()
    settings = TrainSettings(
        data=Path("unused.parquet"),
        trials=0,
        progress=False,
        objective=objective or {},
        **({"n_boot": 20} if fast else {}),
    )
    weights = spec.outcome_weights(settings.objective)
    raw = SimulatedWorld(difficulty).simulate(rows, seed=seed)
    raw.loc[raw.index[:4], "conversions"] = np.nan  # rows the report's data section counts
    raw.loc[raw.index[4:6], "mix_visual"] = 0.9
    report = validate_log(raw, spec)
    split = make_split(report.clean, spec, settings.seed)
    fit_log = FitLog()
    propensity = fit_propensity_model(split, settings.learning, fit_log)
    outcomes = fit_outcome_models(split, dict(DEFAULT_PARAMS), settings.learning, fit_log)
    nuisance = Nuisance(propensity, outcomes)
    selection = select_policy(spec, split, nuisance, weights, settings)
    evaluation = evaluate_offpolicy(spec, split, nuisance, selection, weights, settings)
    decision = decide_shipping(evaluation)
    if ship is not None:
        decision = dataclasses.replace(decision, mode=ship, reason=f"{ship} (set by the test)")
    values = decided_values(evaluation, decision)
    truth: dict[str, float] = {}
    if oracle:
        world = WorldOracle.from_settings({"difficulty": difficulty, "decisions": "full"})
        candidates = selection.policy.candidates
        truth = measure_truth(world, spec, split, candidates, evaluation, decision, weights)
    policy = shipped_policy(evaluation.policy, decision, "test-run", {})
    return ReportInputs(
        policy=policy,
        evaluation=evaluation,
        decision=decision,
        values=with_truth(values, truth),
        propensity=propensity,
        eval_styles=split.eval.style,
        validation=report,
        run_id="test-run",
        oracle_value=truth.get("true.oracle"),
    )
