"""The recommendation policy as it runs in production: score candidates, rank, explain.

A :class:`Policy` is what training builds and what the one MLflow artifact carries. It holds
the fitted LightGBM models (one per outcome, one for the logged-style propensity), the
candidate-action set and the objective weights. For each profile it:

1. scores every candidate action (predicted outcomes -> weighted objective); each outcome's
   prediction is the shared outcome model's plus, when training fitted them, a small
   per-style correction of the profile (:class:`StyleCorrections`, LightGBM too);
   see :mod:`engage.policy.scoring`;
2. drops candidates outside the data's support (styles whose estimated propensity for this
   profile is below ``min_propensity``) and outside the caller's constraints
   (:mod:`engage.policy.constraints`);
3. keeps the best action of each style and ranks styles by score (alternatives a marketer
   can compare, not ten variants of one style; :mod:`engage.policy.ranking`);
4. explains the top recommendation against the runner-up with LightGBM ``pred_contrib``
   differences (outcome models and style corrections), which sum exactly to the score
   difference (:mod:`engage.policy.explanation`, worded by :mod:`engage.policy.narration`).

When training found that personalising did not beat the best single action with confidence,
``mode`` is ``"constant"`` and that action is recommended first for every profile.

Answers are typed (:mod:`engage.policy.results`); ``Answer.to_dict()`` is their JSON form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec, CategoricalColumn
from engage.policy.candidates import CandidateSet
from engage.policy.constraints import ConstraintError, Constraints, allowed_actions
from engage.policy.encoding import FeatureBuilder
from engage.policy.explanation import Explainer, contributions
from engage.policy.narration import Narrator, policy_note, support_level
from engage.policy.ranking import Ranking, rank_styles, top_choice
from engage.policy.results import (
    Answer,
    Explanation,
    OutcomeForecast,
    PolicyMode,
    PolicyNote,
    Recommendation,
    Support,
)
from engage.policy.scoring import (
    OutcomePredictor,
    StyleCorrections,
    softmax,
    support_discount,
    weighted,
)

__all__ = [
    "ConstraintError",
    "Constraints",
    "Policy",
    "PolicyMode",
    "StyleCorrections",
    "support_level",
    "weighted",
]


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

    def __post_init__(self) -> None:
        self.builder = FeatureBuilder(self.spec)
        self._outcome_order = [o for o in self.spec.outcome_names if o in self.outcome_models]
        self.predictor = OutcomePredictor.build(
            self.outcome_models,
            self._outcome_order,
            len(self.builder.context_names),
            self.style_corrections,
        )
        # The candidate frame as plain dicts: a pandas ``iloc`` row lookup costs ~0.1 ms and
        # the answer to one profile needs several (a latency budget matters here).
        self._candidate_rows: list[dict[str, Any]] = self.candidates.frame.to_dict("records")
        self.explainer = Explainer(
            self.predictor, self.candidates, self._candidate_rows, self.builder, Narrator(self.spec)
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

    def score_candidates(
        self, context: np.ndarray, objective: dict[str, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted outcomes (n, k, n_outcomes) and objective scores (n, k) of all candidates."""
        preds = self.predictor.candidates(context, self.candidates)[0]
        return preds, weighted(preds, self.weights(objective))

    def support_discount(self, prop: np.ndarray) -> np.ndarray:
        """The support discount of propensities ``prop`` (see :func:`scoring.support_discount`)."""
        return support_discount(
            prop, pessimism=self.pessimism, score_sd=self.score_sd, n_train=self.n_train
        )

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
        extra = self.typical_actions[prop.argmax(1)] if typical else None
        preds, typical_preds = self.predictor.candidates(context, self.candidates, extra)
        weights = self.weights(objective)
        predicted = weighted(preds, weights)
        allowed = allowed_actions(
            prop,
            self.candidates.frame,
            self.candidates.style_codes,
            self.spec,
            constraints=constraints,
            min_propensity=self.min_propensity,
        )
        discount = self.support_discount(prop[:, self.candidates.style_codes])
        score = predicted - discount
        constant = self.constant_action if self.mode == "constant" else None
        return Ranking(
            preds=preds,
            predicted_objective=predicted,
            discount=discount,
            score=score,
            propensity=prop,
            allowed=allowed,
            choice=top_choice(score, allowed, constant),
            weights=weights,
            typical=None if typical_preds is None else weighted(typical_preds, weights),
        )

    def choose(
        self,
        context: np.ndarray,
        objective: dict[str, float] | None = None,
        constraints: Constraints | None = None,
    ) -> np.ndarray:
        """Index of the recommended candidate for each profile (the policy as a function)."""
        return self.rank(context, objective, constraints).choice

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
        orders = [
            rank_styles(r.score[i], r.allowed[i], self.candidates.style_codes, r.choice[i], top_k)
            for i in range(len(context))
        ]
        pairs = [(i, order[0], order[1]) for i, order in enumerate(orders) if len(order) >= 2]
        explanations: dict[int, Explanation] = {}
        if explain and pairs:  # one pred_contrib call per outcome model for the whole batch
            found = self.explainer.explain_pairs(context, pairs, r.weights, r.discount)
            explanations = {i: e for (i, _, _), e in zip(pairs, found, strict=True)}
        note = self.policy_note()
        return [
            Answer(
                recommendations=tuple(
                    self._recommendation(rank, i, j, r) for rank, j in enumerate(order, start=1)
                ),
                policy=note,
                explanation=explanations.get(i),
            )
            for i, order in enumerate(orders)
        ]

    def _recommendation(self, rank: int, i: int, j: int, r: Ranking) -> Recommendation:
        """Candidate ``j`` described for profile ``i``: the action, its forecasts, its support."""
        row = self._candidate_rows[j]
        decisions = {
            c.name: (
                float(row[c.name]) if not isinstance(c, CategoricalColumn) else str(row[c.name])
            )
            for c in self.spec.extra_decisions
        }
        mix = {col.removeprefix("mix_"): round(float(row[col]), 4) for col in self.spec.mix_columns}
        pred = r.preds[i, j]
        predicted = {
            name: OutcomeForecast(
                mean=float(pred[o]),
                low=float(pred[o] - self.interval_halfwidth.get(name, 0.0)),
                high=float(pred[o] + self.interval_halfwidth.get(name, 0.0)),
            )
            for o, name in enumerate(self._outcome_order)
        }
        objective, discount = r.predicted_objective[i, j], r.discount[i, j]
        assert r.typical is not None  # recommend_context ranks with the typical choice
        p = float(r.propensity[i, self.candidates.style_codes[j]])
        return Recommendation(
            rank=rank,
            style=str(row[self.spec.style.name]),
            posting_mix=mix,
            decisions=decisions,
            predicted=predicted,
            score=float(objective - discount),
            predicted_objective=float(objective),
            support_discount=float(discount),
            lift_vs_typical=float(objective - r.typical[i]),
            support=Support(p, support_level(p), bool(p >= self.min_propensity)),
            candidate_index=int(j),
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
