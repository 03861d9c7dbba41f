"""The candidate policy: candidate actions within the data's support, the policy built from
the nuisance models, and the best single action on the training rows (a diagnostic: the
shipping gate chooses the constant that ships, :mod:`.gate`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec
from engage.policy.candidates import build_candidates
from engage.policy.encoding import FeatureBuilder
from engage.policy.policy import Policy, grid_support, weighted
from engage.training.actions import SearchSettings, merged, search_actions
from engage.training.gate.knobs import OPE_CLIP
from engage.training.nuisance import Nuisance
from engage.training.objective import objective_values
from engage.training.settings import TrainSettings
from engage.training.split import Split

INTERVAL_LEVEL = 0.9  # the level of ``Outcomes.halfwidth``


@dataclass(frozen=True)
class Selection:
    """The personalised candidate policy and the best constant action it must beat."""

    policy: Policy  # mode "personalized", no metadata: what evaluation judges
    # the best constant candidate on the training rows alone: a diagnostic (metric
    # ``gate.constant_is_training_pick``); the shipping gate chooses the constant that ships
    training_constant: int
    metrics: dict[str, float]


def select_policy(
    spec: CampaignSpec,
    split: Split,
    nuisance: Nuisance,
    weights: Mapping[str, float],
    settings: TrainSettings,
) -> Selection:
    """Build the candidate policy and find the best constant action (see the module docstring)."""
    policy = build_candidate_policy(spec, split, nuisance, weights, settings)
    constant = best_constant(policy, split, nuisance, weights, settings)
    metrics = {"policy.candidates": len(policy.candidates), **policy.metadata.get("search", {})}
    return Selection(dataclasses.replace(policy, metadata={}), constant, metrics)


def build_candidate_policy(
    spec: CampaignSpec,
    split: Split,
    nuisance: Nuisance,
    weights: Mapping[str, float],
    settings: TrainSettings,
) -> Policy:
    """The personalised policy: nuisance models, candidates and the trained objective."""
    q = settings.decision_quantiles
    quantiles = tuple(np.round(np.linspace(0.1, 0.9, q), 3)) if q > 1 else (0.5,)
    train, outcomes = split.train, nuisance.outcomes
    candidates = build_candidates(
        train.log,
        spec,
        n_mix_prototypes=settings.mix_prototypes,
        quantiles=quantiles,
        seed=settings.seed,
    )
    residuals = {o: train.y[o] - outcomes.models.oof[o] for o in weights}
    grid = Policy(
        spec=spec,
        outcome_models=outcomes.models.boosters,
        propensity_model=nuisance.propensity.model.booster,
        candidates=candidates,
        typical_actions=typical_actions(train.log, spec),
        propensity_temperature=nuisance.propensity.model.temperature,
        min_propensity=settings.min_propensity,
        pessimism=settings.pessimism,
        n_train=len(train),
        score_sd=float(np.std(objective_values(residuals, weights))),
        interval_halfwidth=outcomes.halfwidth,
        interval_level=INTERVAL_LEVEL,
        style_corrections=outcomes.corrections,
        interval_model=outcomes.interval_model,
        objective=dict(settings.objective),  # the policy ranks by it unless told otherwise
        **grid_support(candidates, len(spec.styles)),  # until the search below
    )
    return with_searched_actions(grid, split, settings)


def with_searched_actions(grid: Policy, split: Split, settings: TrainSettings) -> Policy:
    """``grid`` (whose candidates are the shared grid the best constant comes from) with the
    candidates the action search found for each cluster of profiles (:mod:`.actions`)."""
    weights = grid.weights(settings.objective)

    def score(rows: np.ndarray) -> np.ndarray:
        return weighted(grid.predict_outcomes(rows), weights)

    found = search_actions(
        grid.spec,
        split.train.log,
        split.train.context,
        score,
        SearchSettings(
            clusters=settings.action_clusters,
            profiles=settings.search_profiles,
            pool=settings.search_pool,
            rounds=settings.search_rounds,
            support_neighbours=settings.support_neighbours,
            min_support_rows=settings.min_support_rows,
            seed=settings.seed,
        ),
        shared=grid.candidates.frame,
    )
    candidates, offset = merged(grid.candidates, found.candidates)
    baseline = np.where(found.baseline >= 0, found.baseline + offset, -1)
    return dataclasses.replace(
        grid,
        candidates=candidates,
        clusters=found.clusters,
        baseline=baseline,
        shared_support=found.shared_support,
        constant_scope="supported",
        # a supported constant is for profiles whose rows the off-policy estimate that gates
        # it weighs exactly (no propensity of its style below the estimate's floor)
        constant_min_propensity=OPE_CLIP,
        min_support_rows=settings.min_support_rows,
        metadata={"search": found.metrics},
    )


def typical_actions(log: pd.DataFrame, spec: CampaignSpec) -> np.ndarray:
    """Encoded typical logged action of each style: mean mix, median numbers, modal categories."""
    rows = []
    for style in spec.styles:
        part = log[log[spec.style.name] == style]
        row: dict[str, Any] = {spec.style.name: style}
        for col in spec.mix_columns:
            row[col] = float(part[col].mean())
        for col in spec.extra_decisions:
            row[col.name] = (
                part[col.name].mode().iloc[0]
                if col.type == "categorical"
                else float(part[col.name].median())
            )
        rows.append(row)
    return FeatureBuilder(spec).encode_decisions(pd.DataFrame(rows, columns=spec.decision_names))


def best_constant(
    policy: Policy,
    split: Split,
    nuisance: Nuisance,
    weights: Mapping[str, float],
    settings: TrainSettings,
) -> int:
    """The best constant action on the training split with a DR correction: a diagnostic of
    the shipping gate's own choice among the grid on its rows
    (:func:`.gate.contenders.choose_constant`), which is the one that ships.

    A constant action ``c`` is valued as the policy that ships with it: ``c`` where the
    profile's cluster supports it and the profile's baseline action elsewhere
    (:meth:`Policy.constant_rows`).
    DM alone (mean predicted objective) inherits the outcome model's style-level bias on a
    confounded log; the doubly robust term adds the inverse-propensity-weighted mean out-of-fold
    residual of the rows whose logged style is the one the policy gives them.
    """
    train, samples = split.train, split.samples
    rows_dm, rows = samples.constant, samples.propensity
    positions = np.arange(len(rows))  # in ``samples.propensity``: the propensity model's oof rows
    context_dm = train.context[rows_dm]
    _, cand_scores = policy.score_candidates(context_dm, settings.objective)
    prop_dm = policy.propensities(context_dm)
    targets_dm = policy.constant_targets(context_dm, prop_dm)  # (n, g): each constant's row
    shared = policy.shared  # the grid: the first rows of the candidate set
    moved = targets_dm != shared[None, :]  # rows a constant leaves on their baseline action
    if moved.any():  # score each row's baseline action once (-1, no baseline, is never moved)
        base_rows = np.maximum(policy.baseline_rows(context_dm, prop_dm), 0)
        base_scores = policy.score_rows(context_dm, base_rows, settings.objective)
        cand_scores = np.where(moved, base_scores[:, None], cand_scores)
    dm = cand_scores.mean(0)
    # out-of-fold residuals and propensities exist for the rows the propensity model saw
    oof = nuisance.outcomes.oof_corrected
    resid = objective_values({o: train.y[o][rows] - oof[o][rows] for o in weights}, weights)
    styles = train.style[rows]
    prop_oof = nuisance.propensity.model.oof
    p = np.maximum(prop_oof[positions, styles], OPE_CLIP)
    given = policy.candidates.style_codes[policy.constant_targets(train.context[rows])]  # (n, g)
    correction = np.mean(np.where(given == styles[:, None], (resid / p)[:, None], 0.0), axis=0)
    return int(shared[np.argmax(dm + correction)])
