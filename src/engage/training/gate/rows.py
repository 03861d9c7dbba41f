"""The gate's rows: the held-out OPE rows and, cross-fitted, training rows.

The held-out evaluation rows alone are few on a small log (1,250 of 5,000), so the gate also
uses up to :data:`.knobs.TRAINING_ROWS` training rows, cross-fitted: a training row is chosen
for by the fold outcome models that did not see it (the policy with its outcome models swapped
for that fold's) and valued, like every row, by models that chose nothing and never saw it
(:class:`..valuer.Valuer`, fitted on the evaluation rows); its logged propensity is the
declared one or the propensity model's out-of-fold estimate. On those rows the gate therefore
judges policies learned the same way from two thirds of the training rows: a little worse than
the shipped one, so the pooled gain errs on the cautious side; the per-style corrections of the
outcome models (fitted on the rows' own residuals) are refitted without the fold's rows too.
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
from engage.training.gate.floors import chosen_at_floors
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


@dataclass(frozen=True)
class GateRows:
    """The rows the gate judges on: the OPE rows of the evaluation side, then the training
    rows (None: the evaluation rows only)."""

    data: ope.LoggedData  # the OPE rows as logged data
    rows: np.ndarray  # the OPE rows' positions in the evaluation side
    context: np.ndarray  # their encoded profiles
    logged_actions: np.ndarray  # their encoded logged decisions
    clipped: int  # OPE rows whose propensity is below the clip
    source: str  # where the propensities come from: "logged" or "estimated"
    training: TrainingRows | None = None

    @cached_property
    def pooled(self) -> ope.LoggedData:
        """The gate's rows as logged data: the OPE rows followed by the training rows."""
        return self.data if self.training is None else pooled(self.data, self.training.data)

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


def can_use_training_rows(nuisance: Nuisance, knobs: GateKnobs) -> bool:
    """Whether the gate adds training rows: asked for, and the fold models were kept."""
    models = nuisance.outcomes.models
    return knobs.training_rows > 0 and models.fold is not None and bool(models.fold_models)


def logged_data(
    spec: CampaignSpec,
    split: Split,
    rows: np.ndarray,
    valuer: Valuer,
    propensity: Propensity,
    weights: Mapping[str, float],
    clip: float,
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
    """The gate's rows (module docstring)."""
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
    """The training rows the gate adds, or None when it uses the evaluation rows only (the
    valuer has no models of the whole evaluation side: see :func:`can_use_training_rows`)."""
    if valuer.whole is None:
        return None
    train = split.train
    rows, p_logged = _training_pool(spec, split, nuisance, knobs.training_rows, settings.seed)
    context = train.context[rows]
    floors = floors or (policy.min_propensity,)
    at_floor = _fold_choices(split, nuisance, policy, rows, floors, settings)
    # the baseline (-1 where the policy has none: the gate puts the chosen constant in its
    # place) and the constants (:mod:`.contenders`) are chosen by no outcome of these rows
    baseline = policy.baseline_rows(context)
    n_ctx = train.context.shape[1]
    data = ope.LoggedData(
        reward=objective_values({o: train.y[o][rows] for o in weights}, weights),
        style=train.style[rows],
        propensity=np.maximum(p_logged, knobs.clip),
        q_logged=valuer.objective_outside(context, train.X[rows, n_ctx:]),
    )

    def value(chosen_rows: np.ndarray) -> np.ndarray:
        return valuer.objective_outside(context, policy.candidates.encoded[chosen_rows])

    q_at_floor = {f: value(v) for f, v in at_floor.items()}
    q_baseline = value(baseline) if (baseline >= 0).all() else np.full(len(rows), np.nan)
    clipped = int((p_logged < knobs.clip).sum())
    return TrainingRows(rows, context, data, clipped, at_floor, q_at_floor, baseline, q_baseline)


def _training_pool(
    spec: CampaignSpec, split: Split, nuisance: Nuisance, cap: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Up to ``cap`` training rows with an out-of-sample logged propensity, and that
    propensity: all rows when the log declares them, else the rows the propensity model was
    cross-fitted on (``model.oof`` is in their order)."""
    train = split.train
    declared = spec.logged_propensity(train.log)
    pool = np.arange(len(train)) if declared is not None else split.samples.propensity
    rng = np.random.default_rng(seed + 7919)
    pick = np.arange(len(pool))
    if len(pool) > cap:
        pick = np.sort(rng.choice(len(pool), cap, replace=False))
    rows = pool[pick]
    if declared is not None:
        return rows, declared[rows]
    return rows, nuisance.propensity.model.oof[pick, train.style[rows]]


def _fold_choices(
    split: Split,
    nuisance: Nuisance,
    policy: Policy,
    rows: np.ndarray,
    floors: tuple[float, ...],
    settings: TrainSettings,
) -> dict[float, np.ndarray]:
    """The candidate row each training row gets, at each floor, from the policy whose outcome
    models (and per-style corrections) did not see it: its fold's."""
    models = nuisance.outcomes.models
    assert models.fold is not None
    context = split.train.context[rows]
    at_floor = {f: np.empty(len(rows), dtype=int) for f in floors}
    fold = models.fold[rows]
    for k, fold_models in enumerate(models.fold_models):
        mine = np.flatnonzero(fold == k)
        if len(mine):
            chooser = dataclasses.replace(
                policy,
                outcome_models=fold_models,
                style_corrections=corrections_without(split, nuisance, settings, policy, k),
            )
            ranked = chooser.rank(context[mine], settings.objective)
            for f, chosen_f in chosen_at_floors(ranked, chooser, floors).items():
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
