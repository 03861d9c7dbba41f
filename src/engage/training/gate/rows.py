"""The gate's rows: every clean row of the log, each judged by a policy whose models did not
see it and valued by models that did not see it either.

* The evaluation rows (a quarter of the log, :mod:`..split`) are chosen for by the policy
  itself, learned on the training side, and valued by the valuer's models cross-fitted among
  them (:class:`..valuer.Valuer`).
* Every training row is chosen for by its fold's policy (:func:`fold_policy`: the policy with
  its outcome models and per-style corrections swapped for those fitted without the row's
  fold, one of :data:`..nuisance.FOLDS`) and valued by the valuer's models of the evaluation
  side, which never saw it; its logged propensity is the declared one or the propensity
  model's out-of-sample estimate (:func:`training_propensity`).

Every clean row, whatever the log's size (``gate.rows``: the rows that passed validation).
Judging a row means ranking the candidates for it: the policies rank in batches and predict
only the candidates a row may be recommended (:func:`.floors.choose_at_floors`), which gives
the same choices at about 60% of the cost of scoring every candidate.

So the gate judges the *procedure* on ``FOLDS + 1`` folds: on each, a policy learned without
it. The fold policies learned from four fifths of the training rows, a little worse than the
shipped one, so the pooled gain errs on the cautious side. Given the fitted models, each row's
DR term depends on that row alone: the rows are independent, and the bootstrap over the
stacked rows gives intervals for the mean of the fold policies' values (the cross-fitting
argument of double machine learning; the fold models' dependence on the other folds' rows is
of a smaller order). The shipped policy is the one learned on every training row, not the
fold ensemble: it is the policy whose value the evaluation rows measure directly, it learned
from more data than any fold's, and it serves at one model set's cost.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from engage import ope
from engage.contract.spec import CampaignSpec
from engage.policy.policy import Policy, StyleCorrections
from engage.training.gate.floors import choose_at_floors
from engage.training.gate.knobs import GateKnobs
from engage.training.nuisance import Nuisance, Propensity, fit_corrections
from engage.training.objective import objective_values
from engage.training.settings import TrainSettings
from engage.training.split import Split
from engage.training.valuer import Valuer


@dataclass(frozen=True)
class TrainingRows:
    """The training rows the gate adds, and what the fold policies chose there."""

    rows: np.ndarray  # their positions in the training side
    context: np.ndarray  # their encoded profiles
    data: ope.LoggedData
    clipped: int  # propensities below the clip
    at_floor: dict[float, np.ndarray]  # the fold policies' candidate row per row at each floor
    q_at_floor: dict[float, np.ndarray]  # and its objective by the valuing models
    baseline: np.ndarray  # the baseline policy's candidate row per row (-1: none)
    q_baseline: np.ndarray  # its objective (NaN unless every row has a baseline)
    logged_actions: np.ndarray  # their encoded logged decisions


@dataclass(frozen=True)
class GateRows:
    """The rows the gate judges on: the evaluation rows of the evaluation side, then the training
    rows (None: the evaluation rows only)."""

    data: ope.LoggedData  # the evaluation rows as logged data
    rows: np.ndarray  # the evaluation rows' positions in the evaluation side
    context: np.ndarray  # their encoded profiles
    logged_actions: np.ndarray  # their encoded logged decisions
    clipped: int  # evaluation rows whose propensity is below the clip
    source: str  # where the propensities come from: "logged" or "estimated"
    training: TrainingRows | None = None

    @cached_property
    def pooled(self) -> ope.LoggedData:
        """The gate's rows as logged data: the evaluation rows followed by the training rows."""
        return self.data if self.training is None else pooled(self.data, self.training.data)

    @cached_property
    def pooled_logged_actions(self) -> np.ndarray:
        """The encoded logged decisions of the gate's rows, in :attr:`pooled`'s order."""
        if self.training is None:
            return self.logged_actions
        return np.vstack([self.logged_actions, self.training.logged_actions])

    @property
    def n_training(self) -> int:
        return 0 if self.training is None else len(self.training.rows)


def pooled(first: ope.LoggedData, then: ope.LoggedData) -> ope.LoggedData:
    """``first``'s rows followed by ``then``'s."""
    return ope.LoggedData(
        reward=np.concatenate([first.reward, then.reward]),
        style=np.concatenate([first.style, then.style]),
        propensity=np.concatenate([first.propensity, then.propensity]),
        q_logged=np.concatenate([first.q_logged, then.q_logged]),
    )


def can_use_training_rows(nuisance: Nuisance) -> bool:
    """Whether the gate has the training rows too: the fold models were kept (a run whose
    outcome models were fitted without them, on a cluster, judges on the evaluation rows)."""
    models = nuisance.outcomes.models
    return models.fold is not None and bool(models.fold_models)


def logged_data(
    spec: CampaignSpec,
    split: Split,
    rows: np.ndarray,
    valuer: Valuer,
    propensity: Propensity,
    weights: Mapping[str, float],
    clip: float,
) -> tuple[ope.LoggedData, int, str]:
    """The evaluation rows ``rows`` as logged data, how many propensities were clipped, and
    their source."""
    ev = split.eval
    reward = objective_values({o: ev.y[o][rows] for o in weights}, weights)
    n_ctx = ev.context.shape[1]
    q_logged = valuer.objective(rows, ev.context[rows], ev.X[rows, n_ctx:])
    declared = spec.logged_propensity(ev.log)  # a column, or a randomised experiment's constant
    if declared is not None:  # the marketers' propensities are known: trust them
        p_logged, source = declared[rows], "logged"
    else:
        p_logged, source = propensity.eval_proba[rows, ev.style[rows]], "estimated"
    clipped = int((p_logged < clip).sum())
    data = ope.LoggedData(
        reward=reward,
        style=ev.style[rows],
        propensity=np.maximum(p_logged, clip),
        q_logged=q_logged,
    )
    return data, clipped, source


def gather_rows(
    spec: CampaignSpec,
    split: Split,
    nuisance: Nuisance,
    policy: Policy,
    valuer: Valuer,
    weights: Mapping[str, float],
    settings: TrainSettings,
    knobs: GateKnobs,
    floors: tuple[float, ...],
) -> GateRows:
    """The gate's rows (module docstring): every evaluation row, then every training row."""
    ev, rows = split.eval, split.samples.ope
    data, clipped, source = logged_data(
        spec, split, rows, valuer, nuisance.propensity, weights, knobs.clip
    )
    training = training_rows(
        spec, split, nuisance, policy, valuer, weights, settings, knobs, floors
    )
    return GateRows(
        data, rows, ev.context[rows], ev.X[rows, ev.context.shape[1] :], clipped, source, training
    )


def training_rows(
    spec: CampaignSpec,
    split: Split,
    nuisance: Nuisance,
    policy: Policy,
    valuer: Valuer,
    weights: Mapping[str, float],
    settings: TrainSettings,
    knobs: GateKnobs,
    floors: tuple[float, ...] = (),
) -> TrainingRows | None:
    """The gate's training rows (every one), each judged by its fold's policy (:func:`fold_policy`), or None when the valuer has no models of the whole
    evaluation side (:func:`can_use_training_rows`)."""
    if valuer.whole is None:
        return None
    train, rows = split.train, split.samples.gate_train
    p_logged = training_propensity(spec, split, nuisance, rows)
    context = train.context[rows]
    floors = floors or (policy.min_propensity,)
    at_floor = _fold_choices(split, nuisance, policy, rows, floors, settings)
    # the baseline (-1 where the policy has none: the gate puts the chosen constant in its
    # place) and the constants (:mod:`.contenders`) are chosen by no outcome of these rows
    baseline = policy.baseline_rows(context)
    n_ctx = train.context.shape[1]
    logged_actions = train.X[rows, n_ctx:]
    data = ope.LoggedData(
        reward=objective_values({o: train.y[o][rows] for o in weights}, weights),
        style=train.style[rows],
        propensity=np.maximum(p_logged, knobs.clip),
        q_logged=valuer.objective_outside(context, logged_actions),
    )

    def value(chosen_rows: np.ndarray) -> np.ndarray:
        return valuer.objective_outside(context, policy.candidates.encoded[chosen_rows])

    q_at_floor = {f: value(v) for f, v in at_floor.items()}
    q_baseline = value(baseline) if (baseline >= 0).all() else np.full(len(rows), np.nan)
    clipped = int((p_logged < knobs.clip).sum())
    return TrainingRows(
        rows, context, data, clipped, at_floor, q_at_floor, baseline, q_baseline, logged_actions
    )


def training_propensity(
    spec: CampaignSpec, split: Split, nuisance: Nuisance, rows: np.ndarray
) -> np.ndarray:
    """The logged style's propensity of training rows ``rows``, out of sample: the declared
    one when the log has it; else the propensity model's out-of-fold estimate on the rows it
    was cross-fitted on (``model.oof`` is in their order) and its prediction on the others
    (rows beyond its cap, which it never saw)."""
    train = split.train
    declared = spec.logged_propensity(train.log)
    if declared is not None:
        return np.asarray(declared, dtype=float)[rows]
    model, fitted = nuisance.propensity.model, split.samples.propensity
    position = np.searchsorted(fitted, rows)  # ``fitted`` is sorted
    inside = (position < len(fitted)) & (fitted[np.minimum(position, len(fitted) - 1)] == rows)
    out = np.empty(len(rows))
    out[inside] = model.oof[position[inside], train.style[rows[inside]]]
    rest = rows[~inside]
    if len(rest):
        out[~inside] = model.predict(train.context[rest])[np.arange(len(rest)), train.style[rest]]
    return out


def fold_policy(
    split: Split, nuisance: Nuisance, policy: Policy, settings: TrainSettings, k: int
) -> Policy:
    """The policy as it would be learned without training fold ``k``: its outcome models and
    per-style corrections swapped for those fitted on the other folds. Every part of the
    policy that reads outcomes must be swapped here (the seam the gate's cross-fitting rests
    on); the candidates and their support counts are the whole training side's."""
    return dataclasses.replace(
        policy,
        outcome_models=nuisance.outcomes.models.fold_models[k],
        style_corrections=corrections_without(split, nuisance, settings, policy, k),
    )


def _fold_choices(
    split: Split,
    nuisance: Nuisance,
    policy: Policy,
    rows: np.ndarray,
    floors: tuple[float, ...],
    settings: TrainSettings,
) -> dict[float, np.ndarray]:
    """The candidate row each training row of ``rows`` gets, at each floor, from its fold's
    policy (:func:`fold_policy`), whose models did not see it."""
    models = nuisance.outcomes.models
    assert models.fold is not None
    context = split.train.context[rows]
    at_floor = {f: np.empty(len(rows), dtype=int) for f in floors}
    fold = models.fold[rows]
    for k in range(len(models.fold_models)):
        mine = np.flatnonzero(fold == k)
        if len(mine):
            chooser = fold_policy(split, nuisance, policy, settings, k)
            chosen = choose_at_floors(chooser, context[mine], floors, settings.objective)
            for f, chosen_f in chosen.rows.items():
                at_floor[f][mine] = chosen_f
    return at_floor


def corrections_without(
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
