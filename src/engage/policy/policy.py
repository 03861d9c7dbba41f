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
3. keeps the best action of each style and lists them by score, best first (alternatives a
   marketer can compare, not ten variants of one style; :mod:`engage.policy.ranking`);
4. explains the top recommendation against the runner-up with LightGBM ``pred_contrib``
   differences (outcome models and style corrections), which sum exactly to the score
   difference (:mod:`engage.policy.explanation`, worded by :mod:`engage.policy.narration`).

When training found that personalising did not beat the best single action with confidence,
``mode`` is ``"constant"``: that action is recommended first, with basis ``"constant"``,
for every profile it is allowed for, whatever its score; the others follow by score. Where
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
from engage.policy.narration import Narrator, policy_note, support_level
from engage.policy.ranking import Ranking, rank_styles, runner_up, top_choice
from engage.policy.results import (
    Answer,
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
        self.narrator = Narrator(self.spec)
        self.explainer = Explainer(
            self.predictor, self.candidates, self._candidate_rows, self.builder, self.narrator
        )
        self.describer = Describer(
            self.spec, self.candidates, self._candidate_rows, self._outcome_order, self.narrator
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

    def allowed(self, prop: np.ndarray, constraints: Constraints | None = None) -> np.ndarray:
        """(n, k) mask of the candidates each profile may be recommended: within the support
        floor and ``constraints`` (see :func:`constraints.allowed_actions`)."""
        return allowed_actions(
            prop,
            self.candidates.frame,
            self.candidates.style_codes,
            self.spec,
            constraints=constraints,
            min_propensity=self.min_propensity,
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
        allowed = self.allowed(prop, constraints)
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
        constant = self.constant_action if self.mode == "constant" else None
        pinned = [
            constant is not None and int(r.choice[i]) == constant for i in range(len(context))
        ]
        codes = self.candidates.style_codes
        orders = [
            rank_styles(r.score[i], r.allowed[i], codes, r.choice[i], top_k, pinned=pinned[i])
            for i in range(len(context))
        ]
        pairs = [(i, o[0], runner_up(o, codes)) for i, o in enumerate(orders) if len(o) >= 2]
        explanations: dict[int, Explanation] = {}
        if explain and pairs:  # one pred_contrib call per outcome model for the whole batch
            found = self.explainer.explain_pairs(
                context, pairs, r.weights, r.discount, r.preds, constant
            )
            explanations = {i: e for (i, _, _), e in zip(pairs, found, strict=True)}
        notes = self.describer.notes(self.mode, self.constant_action, pinned, constraints)
        unit = self.narrator.score_unit(self._outcome_order, r.weights).description
        describe = partial(
            self.describer.recommendation,
            halfwidth=self.interval_halfwidth,
            min_propensity=self.min_propensity,
        )
        return [
            Answer(
                recommendations=tuple(
                    describe(rank, i, j, r, pinned=pinned[i] and rank == 1)
                    for rank, j in enumerate(order, start=1)
                ),
                policy=notes[i],
                explanation=explanations.get(i),
                score_unit=unit,
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
