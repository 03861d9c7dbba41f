"""Off-policy evaluation on the held-out split, and the decision of what to ship.

The baseline to beat is what marketers did: the logging policy, whose value on its own log is
the observed mean outcome. Three policies are valued off-policy on the held-out rows with DM,
IPS, SNIPS and DR (bootstrap intervals), by outcome models that did not choose them
(:mod:`.valuer`): the personalised policy (which already falls back, profile by profile, to
what similar marketers typically do where the data cannot support a change), the best
constant action, and the *baseline* policy (each profile gets the typical action of the style
marketers most often pick for profiles like it). What ships:

1. the personalised policy, if its DR gain over the logged policy is positive with 95%
   confidence (paired bootstrap): safe policy improvement, the gain it is sure of;
2. else the best constant action, if its gain is (its interval allowing for its choice among
   the grid, below);
3. else the baseline policy: no change from what similar marketers typically do.

When both are confirmed the personalised policy ships, unless the best constant is confirmed
better than it *with its choice among the grid allowed for*: the DR difference of every
constant from the personalised policy on the gate's rows, with a band that holds for all of
them at once (:func:`.evaluation.simultaneous_differences`), has its lower bound above zero at
the chosen constant (metric ``gate.constant_over_learned``). The plain paired comparison
(``gate.gain_vs_constant``) is not enough: the constant's gain is that of the one constant
chosen as the best of the grid on the gate's rows (its point estimate the best of many, so
high); the personalised policy's is, on the training rows, that of the policies the folds
learned from less data, and on every row the valuing models shrink the differences between
the actions within a style that personalising is made of (:mod:`.valuer`). On the n = 5,000
hard logs of the full track the paired comparison put the constant above the personalised
policy where the truth was the other way round by 0.14 to 0.27, and shipping the one with the
higher lower bound shipped the constant there (issue 11); the band confirmed no constant on
those logs, and did confirm the optimal constant on flat-world logs.

The best constant action is the supported one (``Policy.constant_rows``: the baseline action
for profiles the log does not support it for), chosen by the gate itself: every constant of the
grid is valued on the gate's rows by the valuing models, with intervals that hold for all of them
at once (a max-t band, :func:`.evaluation.simultaneous_gains`), and the one with the highest
lower bound is the best constant, whose interval the gate reads (``_choose_constant``). The
personalised policy is judged at the lowest
support floor (``min_propensity`` and ``settings.personal_floors``) whose DR gain over the
logged policy is positive with 95% confidence, else at its own: no style below the floor is
recommended, so its rows weigh at most ``1 / floor`` in the unclipped DR
(:func:`chosen_at_floors`, ``_choose_floor``).

**The gate's rows.** The held-out evaluation rows alone are few on a small log (1,250 of
5,000), so the gate also uses up to ``gate_training_rows`` training rows, cross-fitted: a
training row is chosen for by the fold outcome models that did not see it (the policy with its
outcome models swapped for that fold's) and valued, like every row, by models that chose
nothing and never saw it (:class:`.valuer.Valuer`, fitted on the evaluation rows); its logged
propensity is the declared one or the propensity model's out-of-fold estimate. On those rows
the gate therefore judges policies learned the same way from two thirds of the training rows:
a little worse than the shipped one, so the pooled gain errs on the cautious side; the
per-style corrections of the outcome models (fitted on the rows' own residuals) are refitted
without the fold's rows too. The best constant is chosen on the gate's rows themselves, the
choice allowed for by the simultaneous interval (above). The values
of each policy (``values``) stay those of the exact policy on the evaluation rows (the best
constant was chosen on them too, so its DR value and gain there carry the intervals that hold
for every constant of the grid at once, :func:`.evaluation.simultaneous_values`), and so do
the gains the run reports beside them (``held_out_gains``, ``held_out_gain``; metrics
``policy.dr_gain_vs_*``); the gate's are ``gains`` and ``gain`` (metrics ``gate.*``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from engage import ope
from engage.contract.spec import CampaignSpec
from engage.policy.policy import Policy, PolicyMode, StyleCorrections
from engage.policy.ranking import Ranking
from engage.training.models import FitLog
from engage.training.nuisance import Nuisance, Propensity, fit_corrections
from engage.training.selection import Selection, objective_values
from engage.training.settings import TrainSettings
from engage.training.split import Split
from engage.training.valuer import Valuer, fit_valuer

#: ``{policy: {estimator: (value, low, high)}}``; policies ``learned``, ``best_constant``,
#: ``baseline``, ``logged`` (estimator ``observed``) and, once decided, ``shipped``; estimators
#: ``dm``, ``ips``, ``snips``, ``dr`` and ``range`` (the DR value with an interval that allows for
#: the valuing models' extrapolation, :func:`.evaluation.extrapolation_range`).
Values = dict[str, dict[str, tuple[float, float, float]]]

#: Training rows ``gate.fold_agreement`` (the same candidate) and ``gate.fold_style_agreement``
#: (the same style) compare the fold policies' choices with the shipped policy's on (each
#: comparison ranks every candidate once more).
AGREEMENT_ROWS = 1_000

#: The key in :attr:`Evaluation.values` of each mode's policy.
SHIPPED_KEY: dict[str, str] = {
    "personalized": "learned", "constant": "best_constant", "baseline": "baseline",
}


@dataclass(frozen=True)
class Evaluation:
    """The candidate policies judged on the OPE rows of the held-out split."""

    data: ope.LoggedData  # reward, logged style, logging propensity, q of the logged action
    context: np.ndarray  # encoded profiles of the OPE rows
    learned: np.ndarray  # the personalised policy's candidate row for each OPE row
    values: Values  # learned, best_constant, baseline and logged
    gain: ope.Estimate  # DR value of learned minus best constant, paired bootstrap, gate's rows
    metrics: dict[str, float]
    params: dict[str, Any]
    baseline: np.ndarray | None = None  # the baseline policy's candidate row per OPE row
    gains: Mapping[str, ope.Estimate] | None = None  # DR gain of each policy over the logged
    valuer: Valuer | None = None
    rows: np.ndarray | None = None  # the OPE rows' positions in the evaluation side
    held_out_gains: Mapping[str, ope.Estimate] | None = None  # ``gains`` on the OPE rows alone
    held_out_gain: ope.Estimate | None = None  # ``gain`` on the OPE rows alone
    gate_rows: int = 0  # rows ``gains`` and ``gain`` (the gate's) are estimated on
    constant: np.ndarray | None = None  # the best constant policy's candidate row per OPE row
    # the personalised policy's support floor the gate chose (``personal_floors``); None: the
    # policy's own ``min_propensity``
    min_propensity: float | None = None
    # the constant action the gate chose and judged (``_choose_constant``); None: the selection's
    constant_action: int | None = None
    # DR value of that constant minus the personalised policy's on the gate's rows, its choice
    # among the grid allowed for (a band over every constant's difference); None: not measured
    constant_over_learned: ope.Estimate | None = None

    def choices(self, mode: str, constant_action: int) -> np.ndarray:
        """The candidate row each OPE row gets from the policy of ``mode`` (the constant
        policy's: ``constant_action``, or the baseline's where that is not supported)."""
        if mode == "constant":
            if self.constant is not None:
                return self.constant
            return np.full(len(self.learned), constant_action)
        if mode == "baseline" and self.baseline is not None:
            return self.baseline
        return self.learned

    def q(self, decisions: np.ndarray) -> np.ndarray:
        """The valuing models' objective of the encoded actions ``decisions`` (one per OPE
        row) for the OPE rows' profiles."""
        assert self.valuer is not None and self.rows is not None
        return self.valuer.objective(self.rows, self.context, decisions)


@dataclass(frozen=True)
class ShipDecision:
    """Which policy ships: personalised, the best constant action, or the baseline."""

    mode: PolicyMode
    reason: str
    constant_action: int
    # the constant ships although the personalised policy was confirmed too: the constant was
    # confirmed better than it, its choice among the grid allowed for
    displaced: bool = False

    @property
    def shipped(self) -> str:
        """The key of the shipped policy in :attr:`Evaluation.values`."""
        return SHIPPED_KEY[self.mode]

    @property
    def tags(self) -> dict[str, str]:
        """What the run tags about the decision."""
        return {"policy_mode": self.mode, "policy_decision": self.reason}


def evaluate_offpolicy(
    spec: CampaignSpec,
    split: Split,
    nuisance: Nuisance,
    selection: Selection,
    weights: Mapping[str, float],
    settings: TrainSettings,
    fit_log: FitLog | None = None,
) -> Evaluation:
    """Value the personalised, best constant, baseline and logged policies off-policy."""
    ev, rows, policy = split.eval, split.samples.ope, selection.policy
    valuer = fit_valuer(
        ev, weights, {o: int(np.mean(b)) for o, b in nuisance.outcomes.models.best_iterations.items()},
        categorical=split.categorical, n_context=ev.context.shape[1], seed=settings.seed,
        params={k.removeprefix("lgbm."): v for k, v in nuisance.outcomes.params.items() if k.startswith("lgbm.")},
        fit_log=fit_log, whole=_gate_can_use_training_rows(nuisance, settings),
    )
    context = ev.context[rows]
    data, clipped, source = _logged_data(spec, split, rows, valuer, nuisance.propensity, weights, settings)
    floors = _floors(policy, settings)
    ranking = policy.rank(context, settings.objective)
    at_floor = chosen_at_floors(ranking, policy, floors)
    extra = _training_rows(spec, split, nuisance, selection, valuer, weights, settings, floors)
    floor, floor_metrics = _choose_floor(data, at_floor, extra, valuer, rows, context, policy, settings)
    policy = dataclasses.replace(policy, min_propensity=floor)
    learned = at_floor[floor]
    constant = _choose_constant(data, extra, valuer, rows, context, policy, settings)
    baseline = policy.baseline_rows(context)
    has_baseline = bool((baseline >= 0).all())
    if not has_baseline:  # the constant stands in (without a baseline it is for every profile)
        baseline = constant.on_eval
    cands = policy.candidates
    targets = {"learned": learned, "best_constant": constant.on_eval, "baseline": baseline}
    q = {k: valuer.objective(rows, context, cands.encoded[targets[k]]) for k in ("learned", "baseline")}
    q["best_constant"] = constant.q_eval[:, constant.column]
    logged_actions = ev.X[rows, ev.context.shape[1]:]
    n_boot, seed = settings.n_boot, settings.seed
    # the constant was chosen on these rows too: its DR value and gain get the intervals that
    # hold for every constant of the grid at once (its own would overstate what is sure)
    band_value = ope.simultaneous_values(data, constant.styles_eval, constant.q_eval, n_boot=n_boot, seed=seed)
    band_gain = ope.simultaneous_gains(data, constant.styles_eval, constant.q_eval, n_boot=n_boot, seed=seed)
    values: Values = {}
    held_out: dict[str, ope.Estimate] = {}
    for name, chosen in targets.items():
        style = cands.style_codes[chosen]
        est = ope.estimate_policy_value(data, style, q[name], n_boot=n_boot, seed=seed)
        if name == "best_constant":
            est["dr"] = band_value[0][constant.column]
            held_out[name] = band_gain[0][constant.column]
        else:
            held_out[name] = ope.gain_over_logged(data, style, q[name], n_boot=n_boot, seed=seed)
        exact = ope.logged_where_matched(data, style, cands.encoded[chosen], logged_actions)
        est["range"] = ope.extrapolation_range(est, exact)
        values[name] = {k: (e.value, e.low, e.high) for k, e in est.items()}
    logged = ope.logged_policy_value(data)
    values["logged"] = {"observed": (logged.value, logged.low, logged.high)}
    held_out_gain = ope.compare_policies(
        data, (cands.style_codes[learned], q["learned"]),
        (cands.style_codes[targets["best_constant"]], q["best_constant"]),
        estimator="dr", n_boot=settings.n_boot, seed=settings.seed,
    )

    # the gate's rows: the OPE rows and, cross-fitted, training rows (module docstring)
    if extra is not None:
        assert constant.on_training is not None and constant.q_training is not None
        extra_baseline, extra_q_baseline = extra.chosen["baseline"], extra.q["baseline"]
        if not has_baseline:  # the constant stands in for the baseline, as on the OPE rows
            extra_baseline, extra_q_baseline = constant.on_training, constant.q_training
        extra = dataclasses.replace(
            extra,
            chosen={"learned": extra.at_floor[floor], "best_constant": constant.on_training,
                    "baseline": extra_baseline},
            q={"learned": extra.q_at_floor[floor], "best_constant": constant.q_training,
               "baseline": extra_q_baseline},
        )
    if extra is None:  # the gate is the held-out rows
        gate_data, gains, gain = data, held_out, held_out_gain  # held_out has the constant's band
        gate_learned = (cands.style_codes[learned], q["learned"])
    else:
        clipped += extra.clipped
        gate_data = _pooled(data, extra)
        gate_style = {
            k: np.concatenate([cands.style_codes[v], cands.style_codes[extra.chosen[k]]])
            for k, v in targets.items()
        }
        gate_q = {k: np.concatenate([q[k], extra.q[k]]) for k in targets}
        gains = {
            name: ope.gain_over_logged(
                gate_data, gate_style[name], gate_q[name], n_boot=settings.n_boot, seed=settings.seed
            )
            for name in ("learned", "baseline")
        }
        gains["best_constant"] = constant.gain  # chosen on these rows: the simultaneous interval
        gate_learned = (gate_style["learned"], gate_q["learned"])
        gain = ope.compare_policies(
            gate_data, gate_learned, (gate_style["best_constant"], gate_q["best_constant"]),
            estimator="dr", n_boot=settings.n_boot, seed=settings.seed,
        )
    # how much better than the personalised policy the chosen constant is, its choice among
    # the grid allowed for (the band of every constant's difference from it)
    over, _ = ope.simultaneous_differences(
        gate_data, gate_learned, constant.styles_gate, constant.q_gate, n_boot=n_boot, seed=seed
    )
    constant_over_learned = over[constant.column]
    # the choosing models' objective at the choice (the floor changes what is allowed, not the
    # predictions, so the ranking made before the floor was chosen has it)
    position = (ranking.index == learned[:, None]).argmax(1)
    chooser = ranking.predicted_objective[np.arange(len(learned)), position]
    n_training = 0 if extra is None else len(extra.rows)
    metrics = {
        "overlap.clipped_rows": clipped,
        "policy.dr_gain_vs_constant": held_out_gain.value,
        "policy.dr_gain_vs_constant_low": held_out_gain.low,
        "policy.dr_gain_vs_constant_high": held_out_gain.high,
        "gate.gain_vs_constant": gain.value,
        "gate.gain_vs_constant_low": gain.low,
        "gate.gain_vs_constant_high": gain.high,
        "gate.constant_over_learned": constant_over_learned.value,
        "gate.constant_over_learned_low": constant_over_learned.low,
        "gate.constant_over_learned_high": constant_over_learned.high,
        # how much the choosing models flatter their own choice (the winner's curse)
        "policy.chooser_optimism": float(np.mean(chooser - q["learned"])),
        "policy.baseline_share": float(np.mean(learned == baseline)) if has_baseline else 0.0,
        "policy.searched_share": float(np.mean(np.asarray(cands.kind)[learned] == "search")),
        # of the OPE rows, those the best constant action is for (the others: their baseline)
        "policy.constant_share": float(np.mean(targets["best_constant"] == constant.action)),
        "gate.rows": float(gate_data.n),
        "gate.training_rows": float(n_training),
        **floor_metrics,
        **constant.metrics,
        # whether the gate's constant is the one the training rows alone favour
        "gate.constant_is_training_pick": float(constant.action == selection.constant_action),
    }
    if extra is not None:  # how often a fold's policy chose the shipped one's action
        # a diagnostic: evenly spaced rows through the training side do
        some = np.unique(np.linspace(0, n_training - 1, min(n_training, AGREEMENT_ROWS)).astype(int))
        shipped_choice = policy.rank(split.train.context[extra.rows[some]], settings.objective).chosen
        fold_choice = extra.chosen["learned"][some]
        metrics["gate.fold_agreement"] = float(np.mean(shipped_choice == fold_choice))
        # the same at the level a marketer reads first: the engagement style
        metrics["gate.fold_style_agreement"] = float(
            np.mean(cands.style_codes[shipped_choice] == cands.style_codes[fold_choice])
        )
    for prefix, estimates in (("policy.dr_gain_vs_logged", held_out), ("gate.gain_vs_logged", gains)):
        for name, g in estimates.items():
            metrics[f"{prefix}.{name}"] = g.value
            metrics[f"{prefix}.{name}_low"] = g.low
            metrics[f"{prefix}.{name}_high"] = g.high
    gate = (
        f"{gate_data.n:,} rows: {len(rows):,} evaluation rows and {n_training:,} training rows, "
        "each chosen for by the fold models that did not see it"
        if n_training else f"the {len(rows):,} evaluation rows"
    )
    return Evaluation(
        data, context, learned, values, gain, metrics,
        {
            "ope_propensity": source,
            "ope_valuer": f"{len(valuer.boosters)}-fold cross-fitted on the evaluation rows",
            "gate_rows": gate,
        },
        baseline=baseline if has_baseline else None, gains=gains, valuer=valuer, rows=rows,
        held_out_gains=held_out, held_out_gain=held_out_gain, gate_rows=gate_data.n,
        constant=targets["best_constant"], min_propensity=floor, constant_action=constant.action,
        constant_over_learned=constant_over_learned,
    )


def _gate_can_use_training_rows(nuisance: Nuisance, settings: TrainSettings) -> bool:
    """Whether the gate adds training rows: asked for, and the fold models were kept."""
    models = nuisance.outcomes.models
    return settings.gate_training_rows > 0 and models.fold is not None and bool(models.fold_models)


@dataclass(frozen=True)
class _GateRows:
    """The training rows the gate adds (module docstring)."""

    rows: np.ndarray  # their positions in the training side
    context: np.ndarray  # their encoded profiles
    data: ope.LoggedData
    chosen: dict[str, np.ndarray]  # each policy's candidate row per row
    q: dict[str, np.ndarray]  # each policy's objective there, by the valuing models
    clipped: int  # propensities below the clip
    at_floor: dict[float, np.ndarray]  # the personalised policy's rows at each support floor
    q_at_floor: dict[float, np.ndarray]  # and their objective by the valuing models


def _training_rows(
    spec: CampaignSpec,
    split: Split,
    nuisance: Nuisance,
    selection: Selection,
    valuer: Valuer,
    weights: Mapping[str, float],
    settings: TrainSettings,
    floors: tuple[float, ...] = (),
) -> _GateRows | None:
    """The training rows the gate adds, or None when it uses the evaluation rows only (the
    valuer has no models of the whole evaluation side: see ``_gate_can_use_training_rows``)."""
    if valuer.whole is None:
        return None
    models, train = nuisance.outcomes.models, split.train
    assert models.fold is not None
    declared = spec.logged_propensity(train.log)
    # rows with an out-of-sample propensity: all when the log declares them, else the rows
    # the propensity model was cross-fitted on (``model.oof`` is in their order)
    pool = np.arange(len(train)) if declared is not None else split.samples.propensity
    rng = np.random.default_rng(settings.seed + 7919)
    pick = np.arange(len(pool))
    if len(pool) > settings.gate_training_rows:
        pick = np.sort(rng.choice(len(pool), settings.gate_training_rows, replace=False))
    rows = pool[pick]
    if declared is not None:
        p_logged = declared[rows]
    else:
        p_logged = nuisance.propensity.model.oof[pick, train.style[rows]]
    context = train.context[rows]
    policy = selection.policy
    floors = floors or (policy.min_propensity,)
    at_floor = {f: np.empty(len(rows), dtype=int) for f in floors}
    fold = models.fold[rows]
    for k, fold_models in enumerate(models.fold_models):
        mine = np.flatnonzero(fold == k)
        if len(mine):
            chooser = dataclasses.replace(
                policy, outcome_models=fold_models,
                style_corrections=_corrections_without(split, nuisance, settings, policy, k),
            )
            ranked = chooser.rank(context[mine], settings.objective)
            for f, chosen_f in chosen_at_floors(ranked, chooser, floors).items():
                at_floor[f][mine] = chosen_f
    # the baseline (-1 where the policy has none: the caller puts the chosen constant in its
    # place) and the constants (``_choose_constant``) are chosen by no outcome of these rows
    baseline = policy.baseline_rows(context)
    n_ctx = train.context.shape[1]
    data = ope.LoggedData(
        reward=objective_values({o: train.y[o][rows] for o in weights}, weights),
        style=train.style[rows],
        propensity=np.maximum(p_logged, settings.ope_clip),
        q_logged=valuer.objective_outside(context, train.X[rows, n_ctx:]),
    )
    def value(chosen_rows: np.ndarray) -> np.ndarray:
        return valuer.objective_outside(context, policy.candidates.encoded[chosen_rows])

    q_at_floor = {f: value(v) for f, v in at_floor.items()}
    first = floors[0]
    chosen = {"learned": at_floor[first], "baseline": baseline}
    q = {
        "learned": q_at_floor[first],
        "baseline": value(baseline) if (baseline >= 0).all() else np.full(len(rows), np.nan),
    }
    return _GateRows(
        rows, context, data, chosen, q, int((p_logged < settings.ope_clip).sum()), at_floor, q_at_floor
    )


def _pooled(data: ope.LoggedData, extra: _GateRows) -> ope.LoggedData:
    """The gate's rows: the evaluation rows ``data`` followed by the training rows."""
    return ope.LoggedData(
        reward=np.concatenate([data.reward, extra.data.reward]),
        style=np.concatenate([data.style, extra.data.style]),
        propensity=np.concatenate([data.propensity, extra.data.propensity]),
        q_logged=np.concatenate([data.q_logged, extra.data.q_logged]),
    )


@dataclass(frozen=True)
class _Constant:
    """The constant action the gate chose among the grid, and what it ships on its rows."""

    action: int  # candidate row
    column: int  # its position among the grid's constants (``Policy.constant_targets``)
    gain: ope.Estimate  # its DR gain over the logged policy on the gate's rows, simultaneous
    on_eval: np.ndarray  # the candidate row it puts first on each OPE row
    styles_eval: np.ndarray  # every constant's style on each OPE row, (n, g)
    q_eval: np.ndarray  # and the valuing models' objective there, (n, g)
    on_training: np.ndarray | None  # and on each of the gate's training rows (None: none)
    q_training: np.ndarray | None  # the valuing models' objective there
    styles_gate: np.ndarray  # every constant's style on each of the gate's rows, (n_gate, g)
    q_gate: np.ndarray  # and the valuing models' objective there, (n_gate, g)
    metrics: dict[str, float]


def _constant_q(
    targets: np.ndarray, fallback: np.ndarray, predict: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """The valuing models' objective of each column of candidate rows ``targets`` (n, g);
    ``predict(positions, candidate_rows)`` values some rows. A row whose target is its
    ``fallback`` row (the baseline the supported constant leaves it on) is valued once."""
    q_fallback = predict(np.arange(len(targets)), fallback)
    out = np.repeat(q_fallback[:, None], targets.shape[1], axis=1)
    for j in range(targets.shape[1]):
        need = np.flatnonzero(targets[:, j] != fallback)
        if len(need):
            out[need, j] = predict(need, targets[need, j])
    return out


def _choose_constant(
    data: ope.LoggedData,
    extra: _GateRows | None,
    valuer: Valuer,
    rows: np.ndarray,
    context: np.ndarray,
    policy: Policy,
    settings: TrainSettings,
) -> _Constant:
    """The best constant action, chosen and judged on the gate's rows (module docstring).

    Every constant of the grid is valued as the policy that ships with it
    (:meth:`Policy.constant_targets`) by the valuing models, which chose nothing, and its DR
    gain over the logged policy gets an interval that holds for all of them at once
    (:func:`.evaluation.simultaneous_gains`). The constant with the highest lower bound is the
    one chosen: the gain it is sure of, with the choice among the grid allowed for. Choosing
    on the training rows alone and judging the choice on rows it did not read (a constant per
    outcome fold) judged a choice made on two thirds of those rows, which, where the constants'
    values are close, the folds did not agree on even when the whole training side chose
    right.
    """
    cands = policy.candidates
    t_eval = policy.constant_targets(context)
    base_eval = policy.baseline_rows(context)
    base_eval = np.where(base_eval >= 0, base_eval, t_eval[:, 0])
    q_eval = _constant_q(
        t_eval, base_eval, lambda at, chosen: valuer.objective(rows[at], context[at], cands.encoded[chosen])
    )
    gate_data, styles, q = data, cands.style_codes[t_eval], q_eval
    t_train = q_train = None
    if extra is not None:
        train_context = extra.context
        t_train = policy.constant_targets(train_context)
        base_train = np.where(extra.chosen["baseline"] >= 0, extra.chosen["baseline"], t_train[:, 0])
        q_train = _constant_q(
            t_train, base_train,
            lambda at, chosen: valuer.objective_outside(train_context[at], cands.encoded[chosen]),
        )
        gate_data = _pooled(data, extra)
        styles = np.vstack([styles, cands.style_codes[t_train]])
        q = np.vstack([q, q_train])
    estimates, crit = ope.simultaneous_gains(gate_data, styles, q, n_boot=settings.n_boot, seed=settings.seed)
    lows = np.array([e.low for e in estimates])
    values = np.array([e.value for e in estimates])
    j = int(np.lexsort((-values, -lows))[0])  # the highest lower bound; ties: the higher value
    return _Constant(
        action=int(policy.shared[j]), column=j, gain=estimates[j], on_eval=t_eval[:, j],
        styles_eval=cands.style_codes[t_eval], q_eval=q_eval,
        on_training=None if t_train is None else t_train[:, j],
        q_training=None if q_train is None else q_train[:, j],
        styles_gate=styles, q_gate=q,
        metrics={"gate.constant_candidates": float(len(estimates)), "gate.constant_critical": crit},
    )


def _floors(policy: Policy, settings: TrainSettings) -> tuple[float, ...]:
    """The support floors the gate tries for the personalised policy: its own
    ``min_propensity`` first, then each of ``settings.personal_floors`` above it."""
    own = float(policy.min_propensity)
    return (own, *sorted({float(f) for f in settings.personal_floors if f > own}))


def chosen_at_floors(
    ranking: Ranking, policy: Policy, floors: tuple[float, ...]
) -> dict[float, np.ndarray]:
    """The candidate row each profile of ``ranking`` gets from the personalised policy when no
    style below the floor may be recommended, for each floor: what ranking again with
    ``min_propensity`` raised to it gives, without scoring again. A profile keeps its baseline
    action (its likeliest style) at any floor it clears; one with nothing left keeps its choice."""
    assert ranking.index is not None
    codes = policy.candidates.style_codes[ranking.index]
    prop = np.take_along_axis(ranking.propensity, codes, axis=1)
    rows = np.arange(len(ranking.choice))
    out = {}
    for floor in floors:
        ok = ranking.allowed & (prop >= floor)
        ok[~ok.any(1)] = ranking.allowed[~ok.any(1)]
        choice = np.where(ok, ranking.score, -np.inf).argmax(1)
        out[floor] = np.asarray(ranking.index[rows, choice])
    return out


def _choose_floor(
    data: ope.LoggedData,
    at_floor: dict[float, np.ndarray],
    extra: _GateRows | None,
    valuer: Valuer,
    rows: np.ndarray,
    context: np.ndarray,
    policy: Policy,
    settings: TrainSettings,
) -> tuple[float, dict[str, float]]:
    """The support floor whose personalised policy the gate judges (module docstring): the
    lowest floor whose DR gain over the logged policy, on the gate's rows, is positive with 95%
    confidence; the policy's own floor when none is. A higher floor gives up the actions the
    data can hardly check in exchange for a surer gain, so it is taken only when the less
    restricted policy cannot be confirmed. With one floor, that floor."""
    floors = list(at_floor)
    if len(floors) == 1:
        return floors[0], {}
    cands = policy.candidates
    gate_data = data if extra is None else _pooled(data, extra)
    metrics: dict[str, float] = {"gate.floors": float(len(floors))}
    lows = []
    for floor in floors:
        chosen, q = at_floor[floor], valuer.objective(rows, context, cands.encoded[at_floor[floor]])
        style = cands.style_codes[chosen]
        if extra is not None:
            style = np.concatenate([style, cands.style_codes[extra.at_floor[floor]]])
            q = np.concatenate([q, extra.q_at_floor[floor]])
        g = ope.gain_over_logged(gate_data, style, q, n_boot=settings.n_boot, seed=settings.seed)
        lows.append(g.low)
        key = f"gate.floor_{floor:g}"
        metrics.update({
            f"{key}.gain": g.value, f"{key}.gain_low": g.low, f"{key}.gain_high": g.high,
            # how many OPE rows the floor moves off a rarely picked style
            f"{key}.changed_share": float(np.mean(chosen != at_floor[floors[0]])),
        })
    sure = [f for f, low in zip(floors, lows, strict=True) if low > 0]
    best = sure[0] if sure else floors[0]
    metrics["gate.personal_floor"] = best
    return best, metrics


def _corrections_without(
    split: Split, nuisance: Nuisance, settings: TrainSettings, policy: Policy, k: int
) -> StyleCorrections | None:
    """The per-style corrections refitted without fold ``k``'s rows, or None if the policy has
    none. They are fitted on the rows' own residuals: a policy judged on fold ``k``'s rows must
    not have read those rows' outcomes through them (a correction lifted by a lucky row makes
    the chooser pick that row's logged style, which the DR correction then credits)."""
    if policy.style_corrections is None:
        return None
    models, train = nuisance.outcomes.models, split.train
    assert models.fold is not None
    residuals = {o: train.y[o] - models.oof[o] for o in models.oof}
    return fit_corrections(split, residuals, settings, rows=np.flatnonzero(models.fold != k))


def _logged_data(
    spec: CampaignSpec,
    split: Split,
    rows: np.ndarray,
    valuer: Valuer,
    propensity: Propensity,
    weights: Mapping[str, float],
    settings: TrainSettings,
) -> tuple[ope.LoggedData, int, str]:
    """The OPE rows as logged data, how many propensities were clipped, and their source."""
    ev = split.eval
    reward = objective_values({o: ev.y[o][rows] for o in weights}, weights)
    n_ctx = ev.context.shape[1]
    q_logged = valuer.objective(rows, ev.context[rows], ev.X[rows, n_ctx:])
    declared = spec.logged_propensity(ev.log)  # a column, or a randomised experiment's constant
    if declared is not None:  # the marketers' propensities are known: trust them
        p_logged, source = declared[rows], "logged"
    else:
        p_logged, source = propensity.eval_proba[rows, ev.style[rows]], "estimated"
    clipped = int((p_logged < settings.ope_clip).sum())
    data = ope.LoggedData(
        reward=reward, style=ev.style[rows], propensity=np.maximum(p_logged, settings.ope_clip),
        q_logged=q_logged,
    )
    return data, clipped, source


def decide_shipping(evaluation: Evaluation, constant_action: int) -> ShipDecision:
    """What ships (see the module docstring), and why in words."""
    gains = evaluation.gains or {}
    learned, constant = gains.get("learned"), gains.get("best_constant")
    versus = evaluation.gain

    def said(g: ope.Estimate) -> str:
        return f"{g.value:+.3f}, 95% interval {g.low:+.3f} to {g.high:+.3f}"

    def verdict(g: ope.Estimate) -> str:
        if g.low > 0:
            return "better than"
        if g.high < 0:
            return "worse than"
        return "not distinguishable from"

    if learned is None or constant is None:  # an evaluation without the logged comparison
        raise ValueError("the evaluation has no gains over the logged policy")
    judged = (getattr(evaluation, "params", None) or {}).get("gate_rows")
    on = f" (judged on {judged})" if judged else ""
    # the personalised policy first, the best constant only where it is not confirmed or is
    # confirmed better than the personalised policy with its choice among the grid allowed for
    # (module docstring: the plain DR comparison of the two leans towards the constant)
    over = getattr(evaluation, "constant_over_learned", None)
    displaced = learned.low > 0 and constant.low > 0 and over is not None and over.low > 0
    sure: PolicyMode | None = (
        "constant" if displaced
        else "personalized" if learned.low > 0
        else "constant" if constant.low > 0 else None
    )
    if sure is not None:
        if displaced:
            assert over is not None
            candidates = (getattr(evaluation, "metrics", None) or {}).get("gate.constant_candidates")
            among = f" among {int(candidates):,} constants" if candidates else ""
            why = (
                f"the personalised policy is better than what marketers did (DR gain {said(learned)}); "
                f"the best constant action is better still (DR gain {said(constant)}), by "
                f"{said(over)}, its choice{among} allowed for"
            )
        elif sure == "personalized":
            why = (
                f"the personalised policy{_floor_said(evaluation)} is better than what marketers did "
                f"(DR gain {said(learned)}); "
                f"the best constant is {verdict(constant)} what marketers did ({said(constant)})"
            )
        else:
            why = (
                f"the personalised policy is {verdict(learned)} what marketers did ({said(learned)}); "
                f"the best constant action is better (DR gain {said(constant)})"
            )
        name = {"personalized": "personalised policy", "constant": "best constant action"}
        # the paired comparison without the choice allowed for, unless the band already said
        compared = "" if displaced else (
            f"; the personalised policy is {verdict(versus)} the best constant ({said(versus)})"
        )
        reason = f"{why}{compared}{on}: shipping the {name[sure]}"
        return ShipDecision(sure, reason, constant_action, displaced=displaced)
    mode = "baseline" if evaluation.baseline is not None else "constant"
    fallback = (
        "shipping the baseline: what marketers of similar profiles typically do"
        if mode == "baseline" else "shipping the best constant action (this policy has no baseline)"
    )
    reason = (
        f"neither the personalised policy ({verdict(learned)} what marketers did, DR gain "
        f"{said(learned)}) nor the best constant ({verdict(constant)}, {said(constant)}) is "
        f"confidently better than what marketers did{on}; {fallback}"
    )
    return ShipDecision(mode, reason, constant_action)


def _floor_said(evaluation: Evaluation) -> str:
    """Which support floor the personalised policy was judged at, when the gate tried several."""
    metrics = getattr(evaluation, "metrics", None) or {}
    floor, tried = metrics.get("gate.personal_floor"), metrics.get("gate.floors")
    if floor is None or not tried or tried < 2:
        return ""
    return (
        f" (no style recommended below propensity {floor:g}: the lowest of {int(tried)} support "
        "floors tried whose gain is sure)"
    )


def decided_values(evaluation: Evaluation, decision: ShipDecision) -> Values:
    """The evaluation's values with the shipped policy's added as ``shipped``."""
    return {**evaluation.values, "shipped": evaluation.values[decision.shipped]}


def decision_metrics(values: Values, decision: ShipDecision) -> dict[str, float]:
    """``policy.personalized``, ``policy.baseline`` (1/0: which mode shipped; neither: the best
    constant) and ``ope.<policy>.<estimator>[_low|_high]`` of every value."""
    metrics = {
        "policy.personalized": float(decision.mode == "personalized"),
        "policy.baseline": float(decision.mode == "baseline"),
    }
    for policy, estimates in values.items():
        for estimator, (v, lo, hi) in estimates.items():
            metrics[f"ope.{policy}.{estimator}"] = v
            metrics[f"ope.{policy}.{estimator}_low"] = lo
            metrics[f"ope.{policy}.{estimator}_high"] = hi
    return metrics
