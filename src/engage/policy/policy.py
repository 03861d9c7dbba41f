"""The recommendation policy as it runs in production: score candidates, rank, explain.

A :class:`Policy` is what training builds and what the one MLflow artifact carries. It holds
the fitted LightGBM models (one per outcome, one for the logged-style propensity), the
candidate-action set and the objective weights. A profile's candidates are the shared grid of
logged prototypes and the actions the training-time search found for its cluster of similar
profiles (:mod:`engage.policy.support`, ``engage.training.actions``); a policy without the
search (:func:`grid_support`) has one cluster of every profile and only the grid. For each
profile it:

1. scores its candidate actions (predicted outcomes -> weighted objective); each outcome's
   prediction is the shared outcome model's plus, when training fitted them, a small
   per-style correction of the profile (:class:`StyleCorrections`, LightGBM too);
   see :mod:`engage.policy.scoring`;
2. drops candidates outside the data's support (styles whose estimated propensity for this
   profile is below ``min_propensity``) and outside the caller's constraints
   (:mod:`engage.policy.constraints`);
3. keeps the best action of each style and lists them by score, best first (alternatives a
   marketer can compare, not ten variants of one style; :mod:`engage.policy.ranking`);
4. explains the top recommendation against the runner-up with LightGBM ``pred_contrib``
   differences (outcome models and style corrections), which sum exactly to the score
   difference (:mod:`engage.policy.explanation`, worded by :mod:`engage.policy.narration`).

Training ships the personalised policy only when it is confidently better than what marketers
did; otherwise ``mode`` pins the first recommendation: ``"constant"`` (the best single
action), ``"baseline"`` (what marketers of similar profiles typically do) or, on a log that
declares its propensities, ``"logging"`` (a style drawn with its propensity, served with the
typical plan: :mod:`engage.policy.logging_policy`). The others follow by score; where the
caller's constraints or the log's support exclude it, the policy note says so (``fallback``).

Answers are typed (:mod:`engage.policy.results`); ``Answer.to_dict()`` is their JSON form.
The support rules (candidates per profile, the support floor, the constant's and baseline's
targets) are :class:`~engage.policy.reach.SupportReach`, a base of :class:`Policy`; the
answering of a batch is :func:`engage.policy.answering.answer_context`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec
from engage.policy.answering import answer_context
from engage.policy.answers import Describer
from engage.policy.candidates import CandidateSet
from engage.policy.constraints import ConstraintError, Constraints
from engage.policy.encoding import FeatureBuilder
from engage.policy.explanation import Explainer, contributions
from engage.policy.intervals import IntervalModel
from engage.policy.logging_policy import logging_options
from engage.policy.narration import Narrator
from engage.policy.notes import policy_note, support_level
from engage.policy.ranking import Ranking, top_choice
from engage.policy.reach import SupportReach, grid_support
from engage.policy.results import (
    Answer,
    Basis,
    ConstantScope,
    Explanation,
    PolicyMode,
    PolicyNote,
)
from engage.policy.scoring import OutcomePredictor, StyleCorrections, weighted
from engage.policy.support import ProfileClusters

__all__ = [
    "ConstraintError",
    "Constraints",
    "Policy",
    "grid_support",
    "PolicyMode",
    "StyleCorrections",
    "support_level",
    "weighted",
]


@dataclass
class Policy(SupportReach):
    """A fitted recommendation policy (see the module docstring).

    The models, candidates and spec are read once, when the policy is built: change them with
    ``dataclasses.replace``. The other fields (mode, support floor, pessimism, objective,
    metadata) are read on every call.
    """

    spec: CampaignSpec
    outcome_models: dict[str, lgb.Booster]
    propensity_model: lgb.Booster
    candidates: CandidateSet
    typical_actions: np.ndarray  # (n_styles, n_decisions) encoded typical logged action per style
    propensity_temperature: float = 1.0
    min_propensity: float = 0.01
    pessimism: float = 0.0
    n_train: int = 0
    score_sd: float = 0.0
    mode: PolicyMode = "personalized"
    constant_action: int | None = None
    interval_halfwidth: dict[str, float] = field(default_factory=dict)
    interval_level: float = 0.9
    metadata: dict[str, Any] = field(default_factory=dict)
    style_corrections: StyleCorrections | None = None
    # the objective trained for ({}: the spec's default weights)
    objective: dict[str, float] = field(default_factory=dict)
    # a searched action is recommended only when at least this many logged campaigns of its
    # style, by profiles of its cluster, lie near it (its candidate ``support_rows``)
    min_support_rows: float = 0.0
    # per-recommendation intervals (None: ``interval_halfwidth`` for every recommendation)
    interval_model: IntervalModel | None = None
    # whom a constant policy's action is for: "everyone", or "supported" (the profiles whose
    # cluster logged at least ``min_support_rows`` campaigns near it; the others get their
    # baseline action, the rule searched actions follow). See :meth:`constant_rows`.
    constant_scope: ConstantScope = "everyone"
    # ... and, in scope "supported", only where the profile's estimated propensity of its style
    # is at least this (training sets the evaluation's propensity floor: there the off-policy
    # estimate that let the constant ship weighs its rows exactly)
    constant_min_propensity: float = 0.0
    # The action search's result (keyword-only; :func:`grid_support` for a policy without it):
    # the profile clusters whose searched candidates a profile gets (engage.policy.support)
    clusters: ProfileClusters = field(kw_only=True)
    # (n_clusters, n_styles) candidate row of each cluster's typical action of each style
    # (the baseline: what marketers of such profiles typically do), -1 where none
    baseline: np.ndarray = field(kw_only=True)
    # (n_clusters, n_shared) logged campaigns near each shared (grid) action, per cluster
    # (NaN: not measured, which does not count as support)
    shared_support: np.ndarray = field(kw_only=True)

    def __post_init__(self) -> None:
        self.builder = FeatureBuilder(self.spec)
        group = np.asarray(self.candidates.group)
        # every profile gets the shared rows (the grid of logged prototypes, which the best
        # constant comes from) and its own cluster's searched actions
        self._shared_rows = np.flatnonzero(group == -1)
        n_clusters = self.clusters.n_clusters
        self._cluster_rows = [np.flatnonzero(group == c) for c in range(n_clusters)]
        self.baseline = np.asarray(self.baseline, dtype=int)
        self.shared_support = np.asarray(self.shared_support, dtype=float)
        shapes = {
            "baseline": (self.baseline.shape, (n_clusters, len(self.spec.styles))),
            "shared_support": (self.shared_support.shape, (n_clusters, len(self._shared_rows))),
        }
        for name, (got, want) in shapes.items():
            if got != want:
                raise ValueError(f"policy {name} has shape {got}; expected {want} (clusters, ...)")
        bases: dict[str, Basis] = {"baseline": "baseline", "logging": "logging"}
        self._pinned_basis: Basis = bases.get(self.mode, "constant")
        rows = np.asarray(self.candidates.support_rows, dtype=float)
        searched = np.asarray(self.candidates.kind) == "search"
        self._supported = ~searched | ~(rows < self.min_support_rows)
        self._outcome_order = [o for o in self.spec.outcome_names if o in self.outcome_models]
        self.predictor = OutcomePredictor.build(
            self.outcome_models,
            self._outcome_order,
            len(self.builder.context_names),
            self.style_corrections,
        )
        # The candidate frame as plain dicts: a pandas ``iloc`` row lookup costs ~0.1 ms and
        # the answer to one profile needs several (a latency budget matters here).
        self._candidate_rows: list[dict[str, Any]] = self.candidates.frame.to_dict(
            "records", into=dict
        )
        self.narrator = Narrator(self.spec)
        self.explainer = Explainer(
            self.predictor, self.candidates, self._candidate_rows, self.builder, self.narrator
        )
        self.describer = Describer(
            self.spec,
            self.candidates,
            self._candidate_rows,
            self._outcome_order,
            self.narrator,
            interval_model=self.interval_model,
        )

    # ------------------------------------------------------------------ scoring

    def weights(self, objective: dict[str, float] | None = None) -> np.ndarray:
        """Signed objective weights in outcome order.

        Args:
            objective: weights by outcome name; when given they replace the weights whole.
                None: the objective the policy was trained for (the spec's by default).
        """
        w = self.spec.outcome_weights(objective or self.objective or None)
        return np.array([w[o] for o in self._outcome_order])

    def style_correction(self, context: np.ndarray) -> np.ndarray | None:
        """Per-style corrections of the outcomes, (n, n_outcomes in outcome order, n_styles)."""
        return self.predictor.style_correction(context)

    def predict_outcomes(self, rows: np.ndarray) -> np.ndarray:
        """Predicted outcomes for encoded feature rows, shape (n_rows, n_outcomes)."""
        return self.predictor.predict(rows)

    def score_candidates(
        self, context: np.ndarray, objective: dict[str, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted outcomes (n, g, n_outcomes) and objective scores (n, g) of the shared
        candidates (:attr:`shared`, the first g rows of the candidate set)."""
        shared = self.shared
        index = np.broadcast_to(shared, (len(context), len(shared)))
        preds = self.predictor.indexed(context, self.candidates, index)[0]
        return preds, weighted(preds, self.weights(objective))

    def score_rows(
        self, context: np.ndarray, rows: np.ndarray, objective: dict[str, float] | None = None
    ) -> np.ndarray:
        """Predicted objective of candidate row ``rows[i]`` for profile ``i``, (n,)."""
        preds = self.predictor.indexed(context, self.candidates, np.asarray(rows)[:, None])[0]
        return weighted(preds[:, 0], self.weights(objective))

    # ------------------------------------------------------------------ rank

    def rank(
        self,
        context: np.ndarray,
        objective: dict[str, float] | None = None,
        constraints: Constraints | None = None,
        *,
        allowed_only: bool = False,
    ) -> Ranking:
        """Everything the policy computes for a batch of encoded profiles.

        Args:
            context: encoded profiles, (n, n_context).
            objective: outcome weights replacing the trained objective's.
            constraints: limits on the actions to consider.
            allowed_only: predict only the candidates each profile may be recommended (the
                others' predictions and scores are NaN): the same choice, for a caller that
                needs nothing else (the shipping gate ranks every row of the log).

        Raises:
            ConstraintError: no candidate action satisfies ``constraints``.
        """
        return self._rank(context, objective, constraints, typical=False, allowed_only=allowed_only)

    def _rank(
        self,
        context: np.ndarray,
        objective: dict[str, float] | None,
        constraints: Constraints | None,
        *,
        typical: bool,
        allowed_only: bool = False,
    ) -> Ranking:
        """:meth:`rank`; with ``typical``, the ranking's ``typical`` too."""
        prop = self.propensities(context)
        index, valid = self.candidate_index(context)
        allowed = self._allowed(prop, index, valid, constraints)
        logging = (
            logging_options(self, context, prop, constraints) if self.mode == "logging" else None
        )
        if logging is not None:
            allowed = allowed | self._logging_allowed(index, valid, logging)
        extra = self._typical_rows(context, prop) if typical else None
        preds, typical_preds = self.predictor.indexed(
            context, self.candidates, index, extra, where=allowed if allowed_only else None
        )
        weights = self.weights(objective)
        predicted = weighted(preds, weights)
        codes = self.candidates.style_codes[index]
        discount = self.support_discount(np.take_along_axis(prop, codes, axis=1))
        score = predicted - discount
        pinned = self._pinned(context, prop, index, logging)
        return Ranking(
            support_rows=self._support_rows(context, index),
            preds=preds,
            predicted_objective=predicted,
            discount=discount,
            score=score,
            propensity=prop,
            allowed=allowed,
            choice=top_choice(score, allowed, pinned),
            weights=weights,
            typical=None if typical_preds is None else weighted(typical_preds, weights),
            index=index,
            pinned=pinned,
            logging=logging,
        )

    def choose(
        self,
        context: np.ndarray,
        objective: dict[str, float] | None = None,
        constraints: Constraints | None = None,
    ) -> np.ndarray:
        """The candidate row recommended to each profile (the policy as a function)."""
        return self.rank(context, objective, constraints).chosen

    # ------------------------------------------------------------------ recommend

    def recommend(
        self,
        profiles: pd.DataFrame,
        *,
        top_k: int = 3,
        objective: dict[str, float] | None = None,
        constraints: Constraints | None = None,
        explain: bool = True,
    ) -> list[Answer]:
        """Ranked, explained recommendations for each profile.

        Args:
            profiles: one row per profile with the spec's context columns.
            top_k: the most recommendations per profile.
            objective: outcome weights replacing the trained objective's.
            constraints: limits on the actions to consider.
            explain: explain the first choice against the runner-up.

        Returns:
            One answer per profile, in order.

        Raises:
            EncodingError: a profile value cannot be encoded.
            ConstraintError: no candidate action satisfies ``constraints``.
        """
        return self.recommend_context(
            self.builder.encode_context(profiles),
            top_k=top_k,
            objective=objective,
            constraints=constraints,
            explain=explain,
        )

    def recommend_context(
        self,
        context: np.ndarray,
        *,
        top_k: int = 3,
        objective: dict[str, float] | None = None,
        constraints: Constraints | None = None,
        explain: bool = True,
    ) -> list[Answer]:
        """:meth:`recommend` for profiles already encoded (``FeatureBuilder.encode_context``
        or ``encode_rows``)."""
        return answer_context(
            self,
            context,
            top_k=top_k,
            objective=objective,
            constraints=constraints,
            explain=explain,
        )

    def policy_note(self) -> PolicyNote:
        """What kind of policy this is, in words a caller can show."""
        return policy_note(self.mode)

    # ------------------------------------------------------------------ explain

    def contributions(
        self, rows: np.ndarray, weights: np.ndarray, row_profile: np.ndarray | None = None
    ) -> np.ndarray:
        """Per-feature contributions to the weighted objective of encoded rows, (n, F + 1).

        See :func:`engage.policy.explanation.contributions`.
        """
        return contributions(self.predictor, rows, weights, row_profile)

    def explain(
        self,
        context_row: np.ndarray,
        chosen: int,
        runner_up: int,
        weights: np.ndarray,
        discount: np.ndarray | None = None,
    ) -> Explanation:
        """Why candidate ``chosen`` ranks above ``runner_up`` for this profile.

        Args:
            context_row: the encoded profile, (n_context,).
            chosen: the candidate explained.
            runner_up: the candidate it is compared with.
            weights: signed objective weights in outcome order (:meth:`weights`).
            discount: the two candidates' support discounts (None: no discount).
        """
        disc = np.zeros((1, len(self.candidates)))
        if discount is not None:
            disc[0, [chosen, runner_up]] = np.asarray(discount, dtype=float)
        return self.explain_pairs(context_row[None, :], [(0, chosen, runner_up)], weights, disc)[0]

    def explain_pairs(
        self,
        context: np.ndarray,
        pairs: list[tuple[int, int, int]],
        weights: np.ndarray,
        discount: np.ndarray,
    ) -> list[Explanation]:
        """:meth:`explain` for many ``(profile, chosen, runner_up)`` pairs at once.

        ``discount`` is the (n_profiles, k) support discount; see
        :meth:`engage.policy.explanation.Explainer.explain_pairs`.
        """
        return self.explainer.explain_pairs(context, pairs, weights, discount)
