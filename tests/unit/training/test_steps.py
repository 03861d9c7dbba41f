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
from engage.training.shipping import shipped_policy
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
    split = make_split(log, spec, settings.seed)
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
    # the gate judges on every row of both sides
    np.testing.assert_array_equal(s.ope, np.arange(len(split.eval)))
    np.testing.assert_array_equal(s.gate_train, np.arange(len(split.train)))


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
    # the simulated spec logs propensities: the logging distribution is valued as served too
    assert set(evaluation.values) == {"learned", "best_constant", "baseline", "logging", "logged"}
    assert evaluation.params["ope_propensity"] == "logged"
    assert "cross-fitted" in evaluation.params["ope_valuer"]
    decision = decide_shipping(evaluation)
    gains = evaluation.gains
    # the gate: personalised only when confidently better than what marketers did
    if decision.mode == "personalized":
        assert gains["learned"].low > 0
    elif decision.mode == "constant":  # only where the personalised policy is not confirmed
        assert gains["best_constant"].low > 0 and gains["learned"].low <= 0
    else:  # a declared log: its logging distribution is served
        assert gains["learned"].low <= 0 and gains["best_constant"].low < 0
        assert decision.mode == "logging" and decision.gain == gains["logging"]
    values = decided_values(evaluation, decision)
    assert values["shipped"] == values[decision.shipped]
    for policy in ("learned", "best_constant", "baseline", "logging"):
        # searched mixes and cadences are not the logged ones: the range spans DR and DM
        (v, lo, hi), dr, dm = (values[policy][k] for k in ("range", "dr", "dm"))
        assert (v, lo, hi) == (dr[0], min(dr[1], dm[1]), max(dr[2], dm[2]))
    assert decision_metrics(values, decision)["policy.personalized"] == float(
        decision.mode == "personalized"
    )

    candidate = evaluation.policy  # the personalised policy at the floor the gate chose
    assert candidate.min_propensity == evaluation.min_propensity
    shipped = shipped_policy(candidate, decision, "run-1", {"x": 1.0, "nan": float("nan")})
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
    split = make_split(log, spec, settings.seed)
    nuisance = Nuisance(
        fit_propensity_model(split, settings.learning, FitLog()),
        fit_outcome_models(split, dict(DEFAULT_PARAMS), settings.learning, FitLog()),
    )
    grid = {k: DEFAULTS[k] for k in ("mix_prototypes", "decision_quantiles")}
    with training_constants(**grid):  # the code's grid, not the module's small one
        selection = select_policy(spec, split, nuisance, weights, settings)
    values = evaluate_offpolicy(spec, split, nuisance, selection, weights, settings).values
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
def test_the_gate_judges_every_row_by_a_policy_learned_without_it(steps) -> None:
    from engage.training.gate.rows import fold_policy, training_rows

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
    evaluation = evaluate_offpolicy(spec, split, nuisance, selection, weights, settings)
    n_eval, n_train = len(split.eval), len(split.train)
    # every clean row: the evaluation side and the whole training side
    assert evaluation.gate_rows == n_eval + n_train == 1500
    assert evaluation.metrics["gate.rows"] == 1500
    assert evaluation.metrics["gate.training_rows"] == n_train
    assert evaluation.metrics["gate.eval_rows"] == n_eval
    assert (
        "training rows, each chosen for by a policy learned without it"
        in (evaluation.params["gate_rows"])
    )
    decision = decide_shipping(evaluation)
    assert f"(judged on all 1,500 rows: {n_eval:,} evaluation rows and {n_train:,}" in (
        decision.reason
    )
    extra = training_rows(
        spec, split, nuisance, selection.policy, evaluation.valuer, weights, settings, GateKnobs()
    )
    assert extra is not None
    own = selection.policy.min_propensity
    data, rows = extra.data, extra.rows
    np.testing.assert_array_equal(rows, np.arange(n_train))
    for k in range(len(models.fold_models)):
        mine = np.flatnonzero(models.fold == k)
        chooser = fold_policy(split, nuisance, selection.policy, settings, k)
        assert chooser.outcome_models is models.fold_models[k]
        np.testing.assert_array_equal(
            extra.at_floor[own][mine],
            chooser.rank(split.train.context[mine], settings.objective).chosen,
        )
    assert evaluation.constant_action in selection.policy.shared
    # the fold policies learned on less data: they do not always choose as the shipped one
    assert 0 < evaluation.metrics["gate.fold_agreement"] < 1
    assert (
        evaluation.metrics["gate.fold_agreement"]
        <= evaluation.metrics["gate.fold_style_agreement"]
        <= 1
    )
    # the training rows are valued by the models of the evaluation rows, which never saw them
    n_ctx = split.train.context.shape[1]
    np.testing.assert_allclose(
        data.q_logged,
        evaluation.valuer.objective_outside(split.train.context, split.train.X[:, n_ctx:]),
    )
    encoded = selection.policy.candidates.encoded[extra.at_floor[own]]
    np.testing.assert_allclose(
        extra.q_at_floor[own], evaluation.valuer.objective_outside(split.train.context, encoded)
    )
    # one set of numbers: the gains every name shows are the gate's, on every row
    for name, g in evaluation.gains.items():
        assert evaluation.metrics[f"policy.dr_gain_vs_logged.{name}"] == g.value
        assert evaluation.metrics[f"gate.gain_vs_logged.{name}"] == g.value
    assert evaluation.metrics["gate.gain_vs_constant"] == evaluation.gain.value
    assert evaluation.metrics["policy.dr_gain_vs_constant"] == evaluation.gain.value
    # the logged policy's value is the observed mean over every row
    everything = np.concatenate([evaluation.data.reward, data.reward])
    assert evaluation.values["logged"]["observed"][0] == pytest.approx(everything.mean())


def test_without_fold_models_the_gate_is_the_evaluation_rows(steps) -> None:
    spec, settings, weights, split, nuisance, selection = steps
    models = dataclasses.replace(nuisance.outcomes.models, fold=None, fold_models=[])
    bare = dataclasses.replace(
        nuisance, outcomes=dataclasses.replace(nuisance.outcomes, models=models)
    )
    evaluation = evaluate_offpolicy(spec, split, bare, selection, weights, settings)
    assert evaluation.gate_rows == len(split.eval)
    assert evaluation.metrics["gate.training_rows"] == 0
    # the constant was chosen on these rows: its interval is the band's, wider than its own
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
def test_the_gate_chooses_with_one_band_over_every_variant(steps) -> None:
    from engage.training.gate.contenders import (
        FAMILY_LEVEL,
        Contender,
        choose_constant,
        value_constants,
        variant_band,
    )
    from engage.training.gate.rows import GateRows, training_rows

    spec, settings, weights, split, nuisance, selection = steps
    one_floor = GateKnobs(floors=())  # the band: the personalised policy, then the constants
    evaluation = evaluate_offpolicy(
        spec, split, nuisance, selection, weights, settings, knobs=one_floor
    )
    policy, valuer, rows, context = (
        selection.policy,
        evaluation.valuer,
        evaluation.rows,
        evaluation.context,
    )
    extra = training_rows(spec, split, nuisance, policy, valuer, weights, settings, GateKnobs())
    assert extra is not None
    gate_rows = GateRows(evaluation.data, rows, context, np.empty(0), 0, "logged", extra)
    grid = value_constants(gate_rows, valuer, evaluation.policy)
    codes = policy.candidates.style_codes
    learned = Contender(
        evaluation.learned,
        evaluation.q(policy.candidates.encoded[evaluation.learned]),
        extra.at_floor[evaluation.min_propensity],
        extra.q_at_floor[evaluation.min_propensity],
    )
    band = variant_band(
        gate_rows, [learned], grid, codes, n_boot=settings.n_boot, seed=settings.seed
    )
    chosen = choose_constant(band, 1, evaluation.policy)
    assert chosen.action == evaluation.constant_action
    np.testing.assert_array_equal(grid.column(chosen.column).on_eval, evaluation.constant)
    assert evaluation.gains["best_constant"] == chosen.gain
    assert evaluation.metrics["gate.constant_critical"] == pytest.approx(band.critical)
    # the chosen constant has the highest lower bound among the constants
    lows = [g.low for g in band.gains[1:]]
    assert chosen.gain.low == pytest.approx(max(lows))
    # the band allows for every choice: each variant's interval is wider than its own
    pooled = gate_rows.pooled
    for j, g in enumerate(band.gains[1:]):
        style, q = grid.column(j).on_gate(codes)
        own = ope.gain_over_logged(pooled, style, q, n_boot=settings.n_boot, seed=settings.seed)
        assert g.value == pytest.approx(own.value)
    style, q = grid.column(chosen.column).on_gate(codes)
    _, alone = ope.simultaneous_gains(
        pooled, style[:, None], q[:, None], n_boot=settings.n_boot, seed=settings.seed
    )
    assert band.critical > alone
    # the personalised policy's interval is its own family's band (the floors, at 97.5%), not
    # widened by the hundreds of constants it is not chosen among
    l_style, l_q = learned.on_gate(codes)
    (own_family,), floors_alone = ope.simultaneous_gains(
        pooled,
        l_style[:, None],
        l_q[:, None],
        n_boot=settings.n_boot,
        seed=settings.seed,
        level=FAMILY_LEVEL,
    )
    assert band.learned_critical == pytest.approx(floors_alone)
    assert band.gains[0].low == pytest.approx(own_family.low)
    assert band.learned_critical < band.critical
    assert evaluation.metrics["gate.learned_critical"] > 0
    # the values shown are the band's too, on every row
    v = band.values[1 + chosen.column]
    assert evaluation.values["best_constant"]["dr"] == pytest.approx((v.value, v.low, v.high))


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


def test_choosing_in_batches_from_the_allowed_candidates_is_the_whole_ranking(
    steps, monkeypatch
) -> None:
    from engage.training.gate import floors as floors_module

    spec, settings, weights, split, nuisance, selection = steps
    policy, context = selection.policy, split.eval.context[:300]
    floors = (policy.min_propensity, 0.05, 0.2)
    whole = policy.rank(context, settings.objective)
    monkeypatch.setattr(floors_module, "CHOICE_BATCH", 70)  # batches of other cluster mixes
    found = floors_module.choose_at_floors(policy, context, floors, settings.objective)
    for floor, chosen in floors_module.chosen_at_floors(whole, policy, floors).items():
        np.testing.assert_array_equal(found.rows[floor], chosen)
        position = (whole.index == chosen[:, None]).argmax(1)
        expected = whole.predicted_objective[np.arange(len(chosen)), position]
        np.testing.assert_array_equal(found.predicted[floor], expected)  # the same floats
    sparse = policy.rank(context, settings.objective, allowed_only=True)
    assert np.isnan(sparse.predicted_objective[~sparse.allowed]).all()
    np.testing.assert_array_equal(sparse.chosen, whole.chosen)


@pytest.mark.slow  # seconds: a whole evaluation or a loop over every constant
def test_the_gate_judges_the_personalised_policy_at_the_lowest_sure_floor(steps) -> None:
    spec, settings, weights, split, nuisance, selection = steps
    tried = GateKnobs(floors=(0.05, 0.2))
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
