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
did. Otherwise ``mode`` is ``"constant"``: the best single action is recommended first, with
basis ``"constant"``, for every profile it is allowed for, whatever its score; or
``"baseline"``: each profile's baseline action (what marketers of similar profiles typically
do with the style they most often pick) comes first, with basis ``"baseline"``. The others
follow by score. Where
the caller's constraints or the log's support exclude it, the answer's policy note says so
(``fallback``) and the first recommendation is the best-scoring allowed action.

Answers are typed (:mod:`engage.policy.results`); ``Answer.to_dict()`` is their JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec
from engage.policy.answers import Describer
from engage.policy.candidates import CandidateSet
from engage.policy.constraints import ConstraintError, Constraints, allowed_actions
from engage.policy.encoding import FeatureBuilder
from engage.policy.explanation import Explainer, contributions
from engage.policy.fit import with_training_figures
from engage.policy.intervals import IntervalModel
from engage.policy.narration import Narrator, policy_note, support_level
from engage.policy.ranking import Ranking, rank_styles, runner_up, top_choice
from engage.policy.results import (
    Answer,
    Basis,
    ConstantScope,
    Explanation,
    PolicyMode,
    PolicyNote,
)
from engage.policy.scoring import (
    OutcomePredictor,
    StyleCorrections,
    softmax,
    support_discount,
    weighted,
)
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


def grid_support(candidates: CandidateSet, n_styles: int) -> dict[str, Any]:
    """The action-search fields (``clusters``, ``baseline``, ``shared_support``) of a policy
    whose candidates are the shared grid alone (before the search, or small test policies):
    one cluster of every profile, no baseline, support near the grid not measured."""
    return {
        "clusters": ProfileClusters.everyone(),
        "baseline": np.full((1, n_styles), -1, dtype=int),
        "shared_support": np.full((1, len(candidates)), np.nan),
    }


@dataclass
class Policy:
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
    # The action search's result (keyword-only, required; :func:`grid_support` gives those of
    # a policy without it). The profile clusters whose searched candidates a profile gets
    # (engage.policy.support):
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
        self._pinned_basis: Basis = "baseline" if self.mode == "baseline" else "constant"
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

    def propensities(self, context: np.ndarray) -> np.ndarray:
        """Estimated probability that a marketer picks each style for each profile, (n, K)."""
        raw = self.propensity_model.predict(context, raw_score=True, num_threads=1)
        return softmax(np.asarray(raw).reshape(len(context), -1), self.propensity_temperature)

    def style_correction(self, context: np.ndarray) -> np.ndarray | None:
        """Per-style corrections of the outcomes, (n, n_outcomes in outcome order, n_styles)."""
        return self.predictor.style_correction(context)

    def predict_outcomes(self, rows: np.ndarray) -> np.ndarray:
        """Predicted outcomes for encoded feature rows, shape (n_rows, n_outcomes)."""
        return self.predictor.predict(rows)

    @property
    def shared(self) -> np.ndarray:
        """The candidate rows every profile may get (group -1: the grid the best constant
        is chosen from)."""
        return self._shared_rows

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

    def support_discount(self, prop: np.ndarray) -> np.ndarray:
        """The support discount of propensities ``prop`` (see :func:`scoring.support_discount`)."""
        return support_discount(
            prop, pessimism=self.pessimism, score_sd=self.score_sd, n_train=self.n_train
        )

    def allowed(self, prop: np.ndarray, constraints: Constraints | None = None) -> np.ndarray:
        """(n, g) mask of the shared candidates (:attr:`shared`) each profile may be
        recommended: within the support floor and ``constraints``."""
        shared = self.shared
        index = np.broadcast_to(shared, (len(prop), len(shared)))
        return self._allowed(prop, index, np.ones(index.shape, bool), constraints)

    # ------------------------------------------------------------------ rank

    def rank(
        self,
        context: np.ndarray,
        objective: dict[str, float] | None = None,
        constraints: Constraints | None = None,
    ) -> Ranking:
        """Everything the policy computes for a batch of encoded profiles.

        Raises:
            ConstraintError: no candidate action satisfies ``constraints``.
        """
        return self._rank(context, objective, constraints, typical=False)

    def _rank(
        self,
        context: np.ndarray,
        objective: dict[str, float] | None,
        constraints: Constraints | None,
        *,
        typical: bool,
    ) -> Ranking:
        """:meth:`rank`; with ``typical``, the ranking's ``typical`` too."""
        prop = self.propensities(context)
        index, valid = self.candidate_index(context)
        extra = self._typical_rows(context, prop) if typical else None
        preds, typical_preds = self.predictor.indexed(context, self.candidates, index, extra)
        weights = self.weights(objective)
        predicted = weighted(preds, weights)
        allowed = self._allowed(prop, index, valid, constraints)
        codes = self.candidates.style_codes[index]
        discount = self.support_discount(np.take_along_axis(prop, codes, axis=1))
        score = predicted - discount
        pinned = self._pinned(context, prop, index)
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
        )

    def constant_rows(
        self, context: np.ndarray, action: int, prop: np.ndarray | None = None
    ) -> np.ndarray:
        """The candidate row the constant policy of ``action`` puts first for each profile:
        ``action`` itself, except, with :attr:`constant_scope` ``"supported"``, where the log
        does not support it for the profile (its cluster logged fewer than
        :attr:`min_support_rows` campaigns near it, or the profile's estimated propensity of its
        style is below :attr:`constant_min_propensity`): there, the profile's baseline action
        (what marketers of similar profiles typically do)."""
        return self.constant_targets(context, prop)[:, self._shared_position(action)]

    def constant_targets(self, context: np.ndarray, prop: np.ndarray | None = None) -> np.ndarray:
        """:meth:`constant_rows` of every shared candidate at once, (n, n_shared): column
        ``j`` is what the constant policy of shared candidate ``j`` puts first."""
        shared = self._shared_rows
        targets = np.broadcast_to(shared, (len(context), len(shared)))
        if self.constant_scope != "supported":
            return np.array(targets)
        prop = self.propensities(context) if prop is None else prop
        cluster = self.clusters.assign(context)
        # a count not measured (NaN) does not count as support
        supported = np.asarray(self.shared_support, dtype=float)[cluster] >= self.min_support_rows
        style = self.candidates.style_codes[shared]
        supported &= prop[:, style] >= self.constant_min_propensity
        base = self.baseline_rows(context, prop)[:, None]
        return np.where(supported | (base < 0), targets, base)

    def _shared_position(self, action: int) -> int:
        hit = np.flatnonzero(self._shared_rows == int(action))
        if not len(hit):
            raise ValueError(f"candidate {action} is not a shared candidate: it cannot be constant")
        return int(hit[0])

    def candidate_index(self, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each profile's candidate rows (n, m) and which of them are real (n, m): the
        shared rows first, then those of the profile's cluster, padded to the batch's
        largest cluster (padding repeats a real row and is never allowed)."""
        n = len(context)
        shared = self._shared_rows
        cluster = self.clusters.assign(context)
        sizes = np.array([len(self._cluster_rows[c]) for c in cluster])
        m = len(shared) + int(sizes.max(initial=0))
        index = np.empty((n, m), dtype=int)
        valid = np.zeros((n, m), dtype=bool)
        index[:, : len(shared)] = shared
        valid[:, : len(shared)] = True
        for i, c in enumerate(cluster):
            rows = self._cluster_rows[c]
            start = len(shared)
            index[i, start : start + len(rows)] = rows
            index[i, start + len(rows) :] = (
                rows[0] if len(rows) else (shared[0] if len(shared) else 0)
            )
            valid[i, start : start + len(rows)] = True
        return index, valid

    def _support_rows(self, context: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Logged campaigns near each candidate of each profile, (n, m) (NaN: not measured)."""
        rows: np.ndarray = np.asarray(self.candidates.support_rows, dtype=float)[index]
        cluster = self.clusters.assign(context)
        shared = len(self._shared_rows)
        grid = index[:, :shared]
        rows[:, :shared] = self.shared_support[cluster[:, None], grid]
        return rows

    def _allowed(
        self,
        prop: np.ndarray,
        index: np.ndarray,
        valid: np.ndarray,
        constraints: Constraints | None,
    ) -> np.ndarray:
        """(n, m) mask of the candidates each profile may be recommended."""
        allowed = allowed_actions(
            prop,
            self.candidates.frame,
            self.candidates.style_codes,
            self.spec,
            constraints=constraints,
            min_propensity=self.min_propensity,
            index=index,
            valid=valid & self._supported[index],
        )
        return allowed

    def _pinned(
        self, context: np.ndarray, prop: np.ndarray, index: np.ndarray
    ) -> np.ndarray | None:
        """The position of the action a constant or baseline policy puts first, per profile
        (-1 where it has none); None for a personalised policy."""
        if self.mode == "constant" and self.constant_action is not None:
            target = self.constant_rows(context, self.constant_action, prop)
        elif self.mode == "baseline":
            target = self.baseline_rows(context, prop)
        else:
            return None
        hit = index == target[:, None]
        return np.where(hit.any(1) & (target >= 0), hit.argmax(1), -1)

    def _typical_rows(self, context: np.ndarray, prop: np.ndarray) -> np.ndarray:
        """Each profile's typical logged action, encoded: its cluster's typical action of its
        likeliest style (the baseline), else the log-wide typical action of that style."""
        rows = self.baseline_rows(context, prop)
        out = np.asarray(self.typical_actions[prop.argmax(1)], dtype=float).copy()
        known = rows >= 0
        out[known] = self.candidates.encoded[rows[known]]
        return out

    def baseline_rows(self, context: np.ndarray, prop: np.ndarray | None = None) -> np.ndarray:
        """The candidate row of each profile's baseline action: what marketers of similar
        profiles typically do with the style they most often pick for it (-1 where the
        policy has none: a cluster without that style, or a policy without the search)."""
        prop = self.propensities(context) if prop is None else prop
        cluster = self.clusters.assign(context)
        return np.asarray(self.baseline[cluster, prop.argmax(1)], dtype=int)

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
        r = self._rank(context, objective, constraints, typical=True)
        constant = self.constant_action if self.mode == "constant" else None
        pinned = [
            r.pinned is not None and 0 <= int(r.pinned[i]) == int(r.choice[i])
            for i in range(len(context))
        ]
        codes = [self.candidates.style_codes[r.rows(i)] for i in range(len(context))]
        orders = [
            rank_styles(r.score[i], r.allowed[i], codes[i], r.choice[i], top_k, pinned=pinned[i])
            for i in range(len(context))
        ]
        pairs = [(i, o[0], runner_up(o, codes[i])) for i, o in enumerate(orders) if len(o) >= 2]
        # the candidate row each profile's pin names (-1: none), and what pinned it: the
        # constant action, or the profile's baseline (a baseline policy's, or a supported
        # constant's where its action lacks support)
        pin_rows = (
            np.full(len(context), -1)
            if r.pinned is None
            else np.where(
                r.pinned >= 0, r.index[np.arange(len(context)), np.maximum(r.pinned, 0)], -1
            )
        )
        to_baseline = [self.mode == "constant" and 0 <= int(row) != constant for row in pin_rows]
        bases: list[Basis] = ["baseline" if b else self._pinned_basis for b in to_baseline]
        explanations: dict[int, Explanation] = {}
        if explain and pairs:  # one pred_contrib call per outcome model for the whole batch
            found = self.explainer.explain_pairs(
                context,
                pairs,
                r.weights,
                r.discount,
                r.preds,
                None if r.pinned is None else pin_rows,
                index=r.index,
                basis=bases,
            )
            explanations = {i: e for (i, _, _), e in zip(pairs, found, strict=True)}
        notes = self.describer.notes(
            self.mode, self.constant_action, pinned, constraints, to_baseline=to_baseline
        )
        unit = self.narrator.score_unit(self._outcome_order, r.weights).description
        notes, explanations, fit = with_training_figures(
            self.metadata.get("metrics", {}), self._outcome_order, r.weights, notes, explanations
        )
        describe = partial(self.describer.recommendation, min_propensity=self.min_propensity)
        shown = [[int(r.rows(i)[j]) for j in order] for i, order in enumerate(orders)]
        widths = self.describer.halfwidths(context, shown, self.interval_halfwidth)
        return [
            Answer(
                recommendations=tuple(
                    describe(
                        rank,
                        i,
                        j,
                        r,
                        pinned=pinned[i] and rank == 1,
                        halfwidth=widths[i][rank - 1],
                        basis=bases[i],
                    )
                    for rank, j in enumerate(order, start=1)
                ),
                policy=notes[i],
                explanation=explanations.get(i),
                score_unit=unit,
                fit=fit,
            )
            for i, order in enumerate(orders)
        ]

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
