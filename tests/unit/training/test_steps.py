"""The training steps on a tiny simulated log, without MLflow: each step is a function of its
inputs; the policy ranks by the objective it was trained for; the shipped policy is a new,
complete object; an oracle values exactly the run's objective."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from engage import ope
from engage.contract.spec import load_spec
from engage.contract.validation import validate_log
from engage.policy.policy import weighted
from engage.simulation.oracle import WorldOracle
from engage.simulation.world import SimulatedWorld
from engage.training import nuisance as nuisance_module
from engage.training import oracle as oracle_module
from engage.training import pipeline
from engage.training.gate import (
    GateKnobs,
    decide_shipping,
    decided_values,
    decision_metrics,
    evaluate_offpolicy,
)
from engage.training.models import DEFAULT_PARAMS, FitLog
from engage.training.nuisance import Nuisance, fit_outcome_models, fit_propensity_model
from engage.training.oracle import Oracle, measure_truth, with_truth
from engage.training.selection import best_constant, select_policy
from engage.training.settings import TrainSettings
from engage.training.split import EVAL_FRACTION, TrainingError, check_trainable, make_split
from tests.constants import DEFAULTS, training_constants

OBJECTIVE = {"conversions": 1.0}


@pytest.fixture(scope="module", autouse=True)
def small_constants():
    """The module's runs are small: few folds, candidates, correction rounds and oracle rows."""
    with training_constants(
        folds=2, mix_prototypes=2, decision_quantiles=2, style_correction_rounds=10, oracle_rows=100
    ):
        yield


@pytest.fixture(scope="module")
def steps():
    """Split, nuisance models and the candidate policy of a 1,500-row log (about 2 s)."""
    spec = load_spec()
    settings = TrainSettings(data=Path("unused.parquet"), trials=0, n_boot=20, objective=OBJECTIVE)
    weights = spec.outcome_weights(settings.objective)
    log = validate_log(SimulatedWorld("hard").simulate(1500, seed=2), spec).clean
    split = make_split(log, spec, settings.seed, settings.max_eval_rows)
    fit_log = FitLog()
    propensity = fit_propensity_model(split, settings.learning, fit_log)
    outcomes = fit_outcome_models(split, dict(DEFAULT_PARAMS), settings.learning, fit_log)
    nuisance = Nuisance(propensity, outcomes)
    selection = select_policy(spec, split, nuisance, weights, settings)
    return spec, settings, weights, split, nuisance, selection


def test_split_is_time_ordered_and_samples_stay_in_range(steps) -> None:
    spec, settings, _, split, _, _ = steps
    assert split.how == "time"
    assert split.train.log[spec.timestamp].max() <= split.eval.log[spec.timestamp].min()
    assert len(split.eval) == round(1500 * EVAL_FRACTION)
    s = split.samples
    assert s.propensity.max() < len(split.train) and s.constant.max() < len(split.train)
    assert s.ope.max() < len(split.eval) and s.metrics.max() < len(split.eval)
    assert split.params == {
        "split": "time",
        "rows_train": len(split.train),
        "rows_eval": len(split.eval),
    }


def test_a_policy_trained_for_an_objective_ranks_by_it_by_default(steps) -> None:
    spec, _, weights, split, _, selection = steps
    policy = selection.policy
    assert policy.objective == OBJECTIVE
    expected = [weights[o] for o in spec.outcome_names]
    assert expected == [1.0, 0.0, 0.0, 0.0]  # the objective replaces the spec's weights
    np.testing.assert_array_equal(policy.weights(), expected)
    context = split.eval.context[:20]
    ranking = policy.rank(context)
    np.testing.assert_allclose(
        ranking.predicted_objective, ranking.preds[..., 0], rtol=0, atol=1e-12
    )
    assert not np.allclose(
        policy.rank(context, {"retention_30d": 1}).predicted_objective, ranking.predicted_objective
    )


def test_evaluation_decision_and_shipped_policy(steps) -> None:
    spec, settings, weights, split, nuisance, selection = steps
    evaluation = evaluate_offpolicy(spec, split, nuisance, selection, weights, settings)
    assert set(evaluation.values) == {"learned", "best_constant", "baseline", "logged"}
    assert evaluation.params["ope_propensity"] == "logged"  # the simulated spec logs propensities
    assert "cross-fitted" in evaluation.params["ope_valuer"]
    decision = decide_shipping(evaluation)
    gains = evaluation.gains
    # the gate: personalised only when confidently better than what marketers did
    if decision.mode == "personalized":
        assert gains["learned"].low > 0
    elif decision.mode == "constant":  # only where the personalised policy is not confirmed
        assert gains["best_constant"].low > 0 and gains["learned"].low <= 0
    else:
        assert gains["learned"].low <= 0 and gains["best_constant"].low <= 0
    values = decided_values(evaluation, decision)
    assert values["shipped"] == values[decision.shipped]
    for policy in ("learned", "best_constant", "baseline"):
        # searched mixes and cadences are not the logged ones: the range spans DR and DM
        (v, lo, hi), dr, dm = (values[policy][k] for k in ("range", "dr", "dm"))
        assert (v, lo, hi) == (dr[0], min(dr[1], dm[1]), max(dr[2], dm[2]))
    assert decision_metrics(values, decision)["policy.personalized"] == float(
        decision.mode == "personalized"
    )

    candidate = evaluation.policy  # the personalised policy at the floor the gate chose
    assert candidate.min_propensity == evaluation.min_propensity
    shipped = pipeline._shipped_policy(
        candidate, decision, "run-1", {"x": 1.0, "nan": float("nan")}
    )
    assert shipped is not candidate
    assert (shipped.mode, shipped.constant_action) == (decision.mode, evaluation.constant_action)
    assert shipped.metadata["metrics"] == {"x": 1.0} and shipped.metadata["run_id"] == "run-1"
    assert (candidate.mode, candidate.constant_action, candidate.metadata) == (
        "personalized",
        None,
        {},
    )
    assert shipped.objective == candidate.objective == OBJECTIVE


@pytest.mark.slow
def test_where_the_style_is_the_whole_decision_the_range_is_the_dr_interval() -> None:
    spec = load_spec()
    settings = TrainSettings(data=Path("unused.parquet"), trials=0, n_boot=20, objective=OBJECTIVE)
    weights = spec.outcome_weights(settings.objective)
    log = validate_log(SimulatedWorld("hard", decisions="style").simulate(1500, seed=3), spec).clean
    split = make_split(log, spec, settings.seed, settings.max_eval_rows)
    nuisance = Nuisance(
        fit_propensity_model(split, settings.learning, FitLog()),
        fit_outcome_models(split, dict(DEFAULT_PARAMS), settings.learning, FitLog()),
    )
    grid = {k: DEFAULTS[k] for k in ("mix_prototypes", "decision_quantiles")}
    with training_constants(**grid):  # the code's grid, not the module's small one
        selection = select_policy(spec, split, nuisance, weights, settings)
    values = evaluate_offpolicy(
        spec, split, nuisance, selection, weights, settings, knobs=GateKnobs(training_rows=0)
    ).values
    for policy in ("learned", "best_constant", "baseline"):
        assert values[policy]["range"] == values[policy]["dr"]
        assert values[policy]["dr"] != values[policy]["dm"]


class RecordingOracle:
    """A stand-in oracle: a policy's "true value" is its mean cadence; it records each call."""

    description = {"kind": "test"}

    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str], object]] = []

    def policy_value(self, profiles, actions, weights) -> float:
        assert len(actions) == len(profiles)
        self.calls.append(("policy_value", list(profiles.columns), dict(weights)))
        return float(actions["posts_per_week"].mean())

    def best_value(self, profiles, weights) -> float:
        self.calls.append(("best_value", list(profiles.columns), dict(weights)))
        return 100.0


def test_truth_asks_the_oracle_about_the_runs_choices_and_objective(steps) -> None:
    spec, settings, weights, split, nuisance, selection = steps
    evaluation = evaluate_offpolicy(spec, split, nuisance, selection, weights, settings)
    decision = decide_shipping(evaluation)  # the gate's constant
    oracle = RecordingOracle()
    assert isinstance(oracle, Oracle)
    truth = measure_truth(
        oracle, spec, split, selection.policy.candidates, evaluation, decision, weights
    )
    assert len(oracle.calls) == 5
    assert all(c[1] == spec.context_names and c[2] == weights for c in oracle.calls)
    k = oracle_module.ORACLE_ROWS  # the first ORACLE_ROWS OPE rows
    cadence = selection.policy.candidates.frame["posts_per_week"].to_numpy()
    rows = split.eval.log.iloc[split.samples.ope[:k]]
    assert truth["true.learned"] == pytest.approx(cadence[evaluation.learned[:k]].mean())
    # the constant policy: its action where the profile's cluster supports it, else its baseline
    constant_rows = evaluation.choices("constant")
    np.testing.assert_array_equal(
        constant_rows, selection.policy.constant_rows(evaluation.context, decision.constant_action)
    )
    assert truth["true.best_constant"] == pytest.approx(cadence[constant_rows[:k]].mean())
    assert truth["true.logged"] == pytest.approx(rows["posts_per_week"].mean())
    assert truth["true.shipped"] == truth[f"true.{decision.shipped}"]
    gap = 100.0 - truth["true.logged"]
    assert truth["regret.learned"] == pytest.approx((100.0 - truth["true.learned"]) / gap)
    values = with_truth(decided_values(evaluation, decision), truth)
    assert values["learned"]["true"] == (truth["true.learned"],) * 3
    assert "true" not in evaluation.values["learned"]  # the evaluation itself is left as it was


def test_world_oracle_values_the_objective_it_is_given_by_outcome_name() -> None:
    oracle = WorldOracle.from_settings({"difficulty": "hard", "decisions": "style"})
    assert isinstance(oracle, Oracle) and oracle.description["decisions"] == "style"
    spec, world = load_spec(), oracle.world
    log = world.simulate(40, seed=4)
    profiles, actions = log[spec.context_names], log[spec.decision_names]
    true = world.expected_outcomes(log, world.logged_actions(log))
    weights = {"engagement_rate": 0.5, "conversions": 1.0}  # any order; absent outcomes weigh 0
    expected = (true["conversions"] + 0.5 * true["engagement_rate"]).mean()
    assert oracle.policy_value(profiles, actions, weights) == pytest.approx(expected)
    _, best = world.best_actions(profiles, weights=np.array([0.0, 0.0, 0.0, 1.0]))
    assert oracle.best_value(profiles, {"retention_30d": 1.0}) == pytest.approx(best.mean())
    with pytest.raises(ValueError, match="no outcome"):
        oracle.best_value(profiles, {"sales": 1.0})


def test_untrainable_logs_are_refused() -> None:
    spec = load_spec()
    with pytest.raises(TrainingError, match="at least 200"):
        check_trainable(SimulatedWorld("hard").simulate(50, seed=0), spec)


def test_weighted_objective_is_the_policys_one() -> None:
    from engage.training.objective import objective_values

    y = {"a": np.array([1.0, 2.0]), "b": np.array([3.0, -1.0])}
    np.testing.assert_array_equal(
        objective_values(y, {"a": 0.5, "b": -2.0}),
        weighted(np.column_stack([y["a"], y["b"]]), np.array([0.5, -2.0])),
    )


@pytest.mark.slow
def test_the_gate_judges_training_rows_by_the_fold_models_that_did_not_see_them(steps) -> None:
    spec, settings, weights, split, nuisance, selection = steps
    models = nuisance.outcomes.models
    assert models.fold is not None and len(models.fold_models) == nuisance_module.FOLDS
    # fold k's models are the ones whose predictions are the rows' out-of-fold predictions
    for k, fold_models in enumerate(models.fold_models):
        mine = np.flatnonzero(models.fold == k)
        for o in weights:
            np.testing.assert_allclose(
                fold_models[o].predict(split.train.X[mine]), models.oof[o][mine]
            )
    cap = 600
    evaluation = evaluate_offpolicy(
        spec, split, nuisance, selection, weights, settings, knobs=GateKnobs(training_rows=cap)
    )
    n_eval = len(split.samples.ope)
    assert evaluation.gate_rows == n_eval + cap
    assert evaluation.metrics["gate.rows"] == n_eval + cap
    assert evaluation.metrics["gate.training_rows"] == cap
    assert "training rows, each chosen for by the fold models" in evaluation.params["gate_rows"]
    decision = decide_shipping(evaluation)
    assert (
        f"(judged on {n_eval + cap:,} rows: {n_eval:,} evaluation rows and {cap} training rows"
        in decision.reason
    )
    # the training rows the gate used, and what each row's fold policy chose there
    from engage.training.gate.rows import corrections_without, training_rows

    extra = training_rows(
        spec,
        split,
        nuisance,
        selection.policy,
        evaluation.valuer,
        weights,
        settings,
        GateKnobs(training_rows=cap),
    )
    assert extra is not None
    own = selection.policy.min_propensity
    data, rows = extra.data, extra.rows
    targets = {"learned": extra.at_floor[own]}
    assert len(np.unique(rows)) == cap and rows.max() < len(split.train)
    for k, fold_models in enumerate(models.fold_models):
        mine = np.flatnonzero(models.fold[rows] == k)
        chooser = dataclasses.replace(
            selection.policy,
            outcome_models=fold_models,
            style_corrections=corrections_without(split, nuisance, settings, selection.policy, k),
        )
        np.testing.assert_array_equal(
            targets["learned"][mine],
            chooser.rank(split.train.context[rows[mine]], settings.objective).chosen,
        )
    # the constants are chosen on the gate's rows, training rows included, by the valuing models
    assert "best_constant" not in targets
    assert evaluation.constant_action in selection.policy.shared
    # the fold policies learned on less data: they do not always choose as the shipped one
    assert 0 < evaluation.metrics["gate.fold_agreement"] < 1
    # choosing the same style is implied by choosing the same candidate, not the reverse
    assert (
        evaluation.metrics["gate.fold_agreement"]
        <= evaluation.metrics["gate.fold_style_agreement"]
        <= 1
    )
    # the training rows are valued by the models of the evaluation rows, which never saw them
    n_ctx = split.train.context.shape[1]
    np.testing.assert_allclose(
        data.q_logged,
        evaluation.valuer.objective_outside(split.train.context[rows], split.train.X[rows, n_ctx:]),
    )
    encoded = selection.policy.candidates.encoded[targets["learned"]]
    np.testing.assert_allclose(
        extra.q_at_floor[own],
        evaluation.valuer.objective_outside(split.train.context[rows], encoded),
    )
    # (more rows need not mean a narrower interval: without a clip below the policy's own
    # floor, a few training rows of a rarely picked style can carry large weights)
    pooled, held = evaluation.gains["learned"], evaluation.held_out_gains["learned"]
    assert pooled.value != held.value
    assert evaluation.metrics["policy.dr_gain_vs_logged.learned"] == held.value
    assert evaluation.metrics["gate.gain_vs_logged.learned"] == pooled.value
    assert evaluation.metrics["gate.gain_vs_constant"] == evaluation.gain.value
    assert evaluation.metrics["policy.dr_gain_vs_constant"] == evaluation.held_out_gain.value


def test_without_training_rows_the_gate_is_the_evaluation_rows(steps) -> None:
    spec, settings, weights, split, nuisance, selection = steps
    evaluation = evaluate_offpolicy(
        spec, split, nuisance, selection, weights, settings, knobs=GateKnobs(training_rows=0)
    )
    assert evaluation.gate_rows == len(split.samples.ope)
    assert evaluation.metrics["gate.training_rows"] == 0
    assert (
        evaluation.gains == evaluation.held_out_gains
        and evaluation.gain == evaluation.held_out_gain
    )
    # the constant was chosen on these rows: its interval is the one over the whole grid
    constant = evaluation.gains["best_constant"]
    style = selection.policy.candidates.style_codes[evaluation.constant]
    alone = ope.gain_over_logged(
        evaluation.data,
        style,
        evaluation.q(selection.policy.candidates.encoded[evaluation.constant]),
        n_boot=settings.n_boot,
        seed=settings.seed,
    )
    assert constant.value == pytest.approx(alone.value) and constant.low < alone.low
    assert evaluation.valuer.whole is None
    with pytest.raises(ValueError, match="no models of the whole evaluation side"):
        evaluation.valuer.objective_outside(
            split.eval.context[:2], split.eval.X[:2, split.eval.context.shape[1] :]
        )


@pytest.mark.slow
def test_the_gate_chooses_the_constant_it_is_surest_of_with_the_choice_allowed_for(steps) -> None:
    from engage.training.gate.contenders import choose_constant, value_constants
    from engage.training.gate.rows import GateRows, training_rows

    spec, settings, weights, split, nuisance, selection = steps
    gated, knobs = settings, GateKnobs(training_rows=600)
    evaluation = evaluate_offpolicy(spec, split, nuisance, selection, weights, gated, knobs=knobs)
    policy, valuer, rows, context = (
        selection.policy,
        evaluation.valuer,
        evaluation.rows,
        evaluation.context,
    )
    extra = training_rows(spec, split, nuisance, policy, valuer, weights, gated, knobs)
    gate_rows = GateRows(evaluation.data, rows, context, np.empty(0), 0, "logged", extra)
    grid = value_constants(gate_rows, valuer, evaluation.policy)
    chosen = choose_constant(
        grid, gate_rows, evaluation.policy, n_boot=gated.n_boot, seed=gated.seed
    )
    assert chosen.action == evaluation.constant_action
    np.testing.assert_array_equal(grid.column(chosen.column).on_eval, evaluation.constant)
    assert evaluation.gains["best_constant"] == chosen.gain
    # every constant of the grid valued, one at a time, as the policy that ships with it
    cands = policy.candidates
    train_ctx = split.train.context[extra.rows]
    pooled = ope.LoggedData(
        *(
            np.concatenate([getattr(evaluation.data, f), getattr(extra.data, f)])
            for f in ("reward", "style", "propensity", "q_logged")
        )
    )
    styles, qs, singles = [], [], []
    for action in policy.shared:
        on_eval, on_train = (
            policy.constant_rows(context, action),
            policy.constant_rows(train_ctx, action),
        )
        style = cands.style_codes[np.concatenate([on_eval, on_train])]
        q = np.concatenate(
            [
                valuer.objective(rows, context, cands.encoded[on_eval]),
                valuer.objective_outside(train_ctx, cands.encoded[on_train]),
            ]
        )
        styles.append(style)
        qs.append(q)
        singles.append(ope.gain_over_logged(pooled, style, q, n_boot=gated.n_boot, seed=gated.seed))
    band, crit = ope.simultaneous_gains(
        pooled, np.column_stack(styles), np.column_stack(qs), n_boot=gated.n_boot, seed=gated.seed
    )
    assert len(policy.shared) > 1 and evaluation.metrics["gate.constant_candidates"] == len(
        policy.shared
    )
    assert evaluation.metrics["gate.constant_critical"] == pytest.approx(crit)
    np.testing.assert_allclose([b.value for b in band], [s.value for s in singles])
    # the chosen constant has the band's highest lower bound, and the band allows for the
    # choice: wider than the interval of the one constant alone
    k = list(policy.shared).index(chosen.action)
    assert chosen.gain.low == pytest.approx(band[k].low) == pytest.approx(max(b.low for b in band))
    _, alone = ope.simultaneous_gains(
        pooled, styles[k][:, None], qs[k][:, None], n_boot=gated.n_boot, seed=gated.seed
    )
    assert crit > alone
    # on the evaluation rows, which it was chosen on too, its value and gain carry the band
    n = evaluation.data.n
    eval_styles = np.column_stack([st[:n] for st in styles])
    eval_q = np.column_stack([q[:n] for q in qs])
    values, _ = ope.simultaneous_values(
        evaluation.data, eval_styles, eval_q, n_boot=gated.n_boot, seed=gated.seed
    )
    gains, _ = ope.simultaneous_gains(
        evaluation.data, eval_styles, eval_q, n_boot=gated.n_boot, seed=gated.seed
    )
    assert evaluation.values["best_constant"]["dr"] == pytest.approx(
        (values[k].value, values[k].low, values[k].high)
    )
    held = evaluation.held_out_gains["best_constant"]
    assert (held.value, held.low, held.high) == pytest.approx(
        (gains[k].value, gains[k].low, gains[k].high)
    )
    own = ope.estimate_policy_value(
        evaluation.data, eval_styles[:, k], eval_q[:, k], n_boot=gated.n_boot
    )["dr"]
    assert own.value == pytest.approx(values[k].value)
    assert values[k].high - values[k].low > own.high - own.low


def test_the_fold_choosers_corrections_never_read_the_folds_outcomes(steps, monkeypatch) -> None:
    from engage.training import models as fitting
    from engage.training.gate.rows import corrections_without

    # the tiny log's styles are too small for the product's corrections: allow small leaves
    monkeypatch.setitem(fitting.CORRECTION_PARAMS, "min_sum_hessian_in_leaf", 20.0)
    spec, settings, weights, split, nuisance, selection = steps
    models, policy = nuisance.outcomes.models, selection.policy
    assert policy.style_corrections is not None
    context = split.train.context[:200]

    def effects(s) -> np.ndarray:
        return dataclasses.replace(
            policy, style_corrections=corrections_without(s, nuisance, settings, policy, 0)
        ).style_correction(context)

    before = effects(split)
    assert np.abs(before).max() > 0  # corrections there are
    lucky = models.fold == 0  # fold 0's rows suddenly did wonderfully
    y = {o: np.where(lucky, v + 1_000.0, v) for o, v in split.train.y.items()}
    changed = dataclasses.replace(split, train=dataclasses.replace(split.train, y=y))
    np.testing.assert_array_equal(effects(changed), before)
    # ... and they are the rows' own residuals' corrections otherwise
    lucky = models.fold == 1
    y = {o: np.where(lucky, v + 1_000.0, v) for o, v in split.train.y.items()}
    assert not np.array_equal(
        effects(dataclasses.replace(split, train=dataclasses.replace(split.train, y=y))), before
    )


@pytest.mark.slow  # seconds: a whole evaluation or a loop over every constant
def test_the_best_constant_is_valued_as_the_supported_policy_it_would_ship(steps) -> None:
    spec, settings, weights, split, nuisance, selection = steps
    policy = selection.policy
    assert policy.constant_scope == "supported"
    # each shared candidate valued one by one as the policy it ships as: DM over the constant
    # rows, plus the IPW mean residual of the rows whose logged style is the one it gives them
    from engage.training.gate.knobs import OPE_CLIP
    from engage.training.objective import objective_values

    train, samples = split.train, split.samples
    ctx_dm, rows = train.context[samples.constant], samples.propensity
    oof = nuisance.outcomes.oof_corrected
    resid = objective_values({o: train.y[o][rows] - oof[o][rows] for o in weights}, weights)
    styles = train.style[rows]
    p = np.maximum(nuisance.propensity.model.oof[np.arange(len(rows)), styles], OPE_CLIP)
    value = {}
    for c in policy.shared:
        dm = policy.score_rows(ctx_dm, policy.constant_rows(ctx_dm, c), settings.objective).mean()
        given = policy.candidates.style_codes[policy.constant_rows(train.context[rows], c)]
        value[int(c)] = dm + np.mean(np.where(given == styles, resid / p, 0.0))
    moved = [c for c in value if (policy.constant_rows(ctx_dm, c) != c).any()]
    assert moved  # some constants are left on the baseline for some profiles
    assert best_constant(policy, split, nuisance, weights, settings) == max(value, key=value.get)


def test_the_choice_at_a_support_floor_is_the_policy_ranked_with_that_floor(steps) -> None:
    from engage.training.gate.floors import chosen_at_floors

    spec, settings, weights, split, nuisance, selection = steps
    policy, context = selection.policy, split.eval.context[:300]
    ranking = policy.rank(context, settings.objective)
    floors = (policy.min_propensity, 0.05, 0.2)
    found = chosen_at_floors(ranking, policy, floors)
    for floor in floors:
        raised = dataclasses.replace(policy, min_propensity=floor)
        np.testing.assert_array_equal(found[floor], raised.rank(context, settings.objective).chosen)
    # a high floor takes some profiles off rarely picked styles
    assert (found[0.2] != found[policy.min_propensity]).any()


@pytest.mark.slow  # seconds: a whole evaluation or a loop over every constant
def test_the_gate_judges_the_personalised_policy_at_the_lowest_sure_floor(steps) -> None:
    spec, settings, weights, split, nuisance, selection = steps
    tried = GateKnobs(floors=(0.05, 0.2), training_rows=300)
    evaluation = evaluate_offpolicy(
        spec, split, nuisance, selection, weights, settings, knobs=tried
    )
    m = evaluation.metrics
    floors = [selection.policy.min_propensity, 0.05, 0.2]
    lows = [m[f"gate.floor_{f:g}.gain_low"] for f in floors]
    # the lowest floor whose gain is sure, else the policy's own
    sure = [f for f, low in zip(floors, lows, strict=True) if low > 0]
    expected = sure[0] if sure else floors[0]
    assert evaluation.min_propensity == m["gate.personal_floor"] == expected
    assert m["gate.floors"] == len(floors)
    # the personalised policy the evaluation values is the one at that floor
    raised = dataclasses.replace(selection.policy, min_propensity=evaluation.min_propensity)
    np.testing.assert_array_equal(
        evaluation.learned, raised.rank(evaluation.context, settings.objective).chosen
    )
    # how much the choosing models flatter their choice, read off the ranking made before
    ranked = raised.rank(evaluation.context, settings.objective)
    valued = evaluation.q(raised.candidates.encoded[evaluation.learned])
    assert m["policy.chooser_optimism"] == pytest.approx(np.mean(ranked.chosen_objective - valued))
    assert m["gate.gain_vs_logged.learned_low"] == pytest.approx(lows[floors.index(expected)])
    # without extra floors, the policy's own
    alone = evaluate_offpolicy(
        spec, split, nuisance, selection, weights, settings, knobs=GateKnobs(floors=())
    )
    assert alone.min_propensity == selection.policy.min_propensity
    assert "gate.personal_floor" not in alone.metrics
