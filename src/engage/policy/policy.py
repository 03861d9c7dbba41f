"""The recommendation policy as it runs in production: score candidates, rank, explain.

A :class:`Policy` is what training builds and what the one MLflow artifact carries. It holds
the fitted LightGBM models (one per outcome, one for the logged-style propensity), the
candidate-action set and the objective weights. For each profile it:

1. scores every candidate action (predicted outcomes -> weighted objective); each outcome's
   prediction is the shared outcome model's plus, when training fitted them, a small
   per-style correction of the profile (:class:`StyleCorrections`, LightGBM too);
2. drops candidates outside the data's support (styles whose estimated propensity for this
   profile is below ``min_propensity``) and outside the caller's constraints;
3. keeps the best action of each style and ranks styles by score (alternatives a marketer
   can compare, not ten variants of one style);
4. explains the top recommendation against the runner-up with LightGBM ``pred_contrib``
   differences (outcome models and style corrections), which sum exactly to the score
   difference.

When training found that personalising did not beat the best single action with confidence,
``mode`` is ``"constant"`` and that action is recommended first for every profile.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd

from engage.policy.candidates import CandidateSet
from engage.policy.encoding import FeatureBuilder
from engage.contract.spec import CampaignSpec, CategoricalColumn

PolicyMode = Literal["personalized", "constant"]
SUPPORT_LEVELS = ((0.15, "good"), (0.05, "limited"), (0.0, "poor"))


class ConstraintError(ValueError):
    """No candidate action satisfies the caller's constraints."""


@dataclass
class Constraints:
    """Limits a caller puts on the actions it will accept.

    Attributes:
        styles: allowed styles (None: all).
        numeric_max / numeric_min: bounds on numeric decisions, e.g. ``{"posts_per_week": 10}``.
        categorical: allowed values of categorical decisions.
        mix_max: upper bounds on mix shares by mix column, e.g. ``{"mix_promotional": 0.2}``.
    """

    styles: list[str] | None = None
    numeric_max: dict[str, float] = field(default_factory=dict)
    numeric_min: dict[str, float] = field(default_factory=dict)
    categorical: dict[str, list[str]] = field(default_factory=dict)
    mix_max: dict[str, float] = field(default_factory=dict)

    def mask(self, candidates: pd.DataFrame, spec: CampaignSpec) -> np.ndarray:
        """Boolean mask of the candidates that satisfy every constraint."""
        ok = np.ones(len(candidates), dtype=bool)
        if self.styles is not None:
            ok &= candidates[spec.style.name].isin(self.styles).to_numpy()
        for name, hi in self.numeric_max.items():
            ok &= candidates[name].to_numpy(float) <= hi + 1e-9
        for name, lo in self.numeric_min.items():
            ok &= candidates[name].to_numpy(float) >= lo - 1e-9
        for name, allowed in self.categorical.items():
            ok &= candidates[name].astype(str).isin([str(a) for a in allowed]).to_numpy()
        for name, hi in self.mix_max.items():
            ok &= candidates[name].to_numpy(float) <= hi + 1e-9
        return ok


@dataclass
class StyleCorrections:
    """Per-style corrections of the outcome models, a function of the profile only.

    One multi-output LightGBM booster on the context features whose output ``o * n_styles + k``
    is outcome ``o``'s correction for style ``k`` (trained by
    ``engage.training.models.fit_style_corrections``), plus a constant offset per (outcome, style).
    """

    booster: lgb.Booster
    offsets: np.ndarray  # (n_outcomes, n_styles)
    outcomes: list[str]
    n_styles: int

    def predict(self, context: np.ndarray) -> np.ndarray:
        """Corrections (n, n_outcomes, n_styles)."""
        raw = np.asarray(self.booster.predict(context, raw_score=True, num_threads=1))
        return raw.reshape(len(context), len(self.outcomes), self.n_styles) + self.offsets[None]

    def for_rows(self, context: np.ndarray, style: np.ndarray) -> np.ndarray:
        """Each row's correction for its own style code, (n, n_outcomes) in ``outcomes`` order."""
        return self.predict(context)[np.arange(len(context)), :, np.asarray(style, dtype=int)]

    def contributions(self, context: np.ndarray) -> np.ndarray:
        """``pred_contrib`` of the corrections, (n, n_outcomes, n_styles, n_context + 1), bias last."""
        raw = np.asarray(self.booster.predict(context, pred_contrib=True, num_threads=1))
        out = raw.reshape(len(context), len(self.outcomes), self.n_styles, context.shape[1] + 1).copy()
        out[..., -1] += self.offsets[None]
        return out


def support_level(propensity: float) -> str:
    """A word for how well the log covers a style for a profile."""
    return next(word for threshold, word in SUPPORT_LEVELS if propensity >= threshold)


@dataclass
class Policy:
    """A fitted recommendation policy (see the module docstring)."""

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
    objective: dict[str, float] = field(default_factory=dict)  # the objective trained for ({}: spec defaults)

    def __post_init__(self) -> None:
        self.builder = FeatureBuilder(self.spec)
        self._outcome_order = [o for o in self.spec.outcome_names if o in self.outcome_models]

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state.pop("_candidate_rows_cache", None)  # a cache, rebuilt on first use
        return state

    def _candidate_rows(self) -> list[dict[str, Any]]:
        """The candidate frame as plain dicts, built once: a pandas ``iloc`` row lookup costs
        ~0.1 ms and the answer to one profile needs several (a latency budget matters here).
        Built lazily because policies unpickled from older artifacts skip ``__post_init__``."""
        rows = self.__dict__.get("_candidate_rows_cache")
        if rows is None or len(rows) != len(self.candidates):
            rows = self.candidates.frame.to_dict("records")
            self.__dict__["_candidate_rows_cache"] = rows
        return rows

    # ------------------------------------------------------------------ scoring

    def weights(self, objective: dict[str, float] | None = None) -> np.ndarray:
        """Signed objective weights in outcome order: of ``objective`` when given (it replaces
        the weights whole), else of the objective the policy was trained for."""
        w = self.spec.outcome_weights(objective or self.objective or None)
        return np.array([w[o] for o in self._outcome_order])

    def propensities(self, context: np.ndarray) -> np.ndarray:
        """Estimated probability that a marketer picks each style for each profile, (n, K)."""
        raw = self.propensity_model.predict(context, raw_score=True, num_threads=1)
        z = np.asarray(raw).reshape(len(context), -1) / self.propensity_temperature
        z = np.exp(z - z.max(1, keepdims=True))
        return z / z.sum(1, keepdims=True)

    def _corrections(self) -> tuple[StyleCorrections, list[int]] | None:
        """The style corrections (None in policies of older artifacts) and, for each outcome in
        this policy's outcome order, its position among the corrections' outcomes."""
        corr = self.__dict__.get("style_corrections")
        if corr is None:
            return None
        return corr, [corr.outcomes.index(o) for o in self._outcome_order]

    def style_correction(self, context: np.ndarray) -> np.ndarray | None:
        """Per-style corrections of the outcomes, (n, n_outcomes in outcome order, n_styles)."""
        found = self._corrections()
        if found is None:
            return None
        corr, columns = found
        return corr.predict(context)[:, columns, :]

    def predict_outcomes(self, rows: np.ndarray) -> np.ndarray:
        """Predicted outcomes for encoded feature rows, shape (n_rows, n_outcomes)."""
        preds = self._model_outcomes(rows)
        n_ctx = len(self.builder.context_names)
        found = self._corrections()
        if found is not None:
            corr, columns = found
            preds += corr.for_rows(rows[:, :n_ctx], rows[:, n_ctx])[:, columns]
        return preds

    def _model_outcomes(self, rows: np.ndarray) -> np.ndarray:
        threads = 1 if len(rows) < 20_000 else 0  # threads pay off only on big batches
        return np.column_stack(
            [self.outcome_models[o].predict(rows, num_threads=threads) for o in self._outcome_order]
        )

    def score_candidates(
        self, context: np.ndarray, objective: dict[str, float] | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Predicted outcomes (n, k, n_outcomes) and objective scores (n, k) of all candidates."""
        preds = self._candidate_outcomes(context)[0]
        return preds, weighted(preds, self.weights(objective))

    def _candidate_outcomes(
        self, context: np.ndarray, extra: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Predicted outcomes of every candidate for each profile, (n, k, n_outcomes), and of
        one extra encoded decision row per profile, (n, n_outcomes) (None without ``extra``).

        The extra rows ride in the same LightGBM call as the candidates, and the style
        corrections (a function of the profile only) are predicted once for both.
        """
        n, k = len(context), len(self.candidates)
        rows = self.builder.cross(context, self.candidates.encoded)
        if extra is not None:
            rows = np.vstack([rows, np.hstack([context, extra])])
        flat = self._model_outcomes(rows)
        preds = flat[: n * k].reshape(n, k, -1)
        extra_preds = flat[n * k :] if extra is not None else None
        corr = self.style_correction(context)  # depends on the profile and the style only
        if corr is not None:
            preds += np.transpose(corr[:, :, self.candidates.style_codes], (0, 2, 1))
            if extra_preds is not None:
                extra_preds += corr[np.arange(n), :, extra[:, 0].astype(int)]
        return preds, extra_preds

    def support_discount(self, prop: np.ndarray) -> np.ndarray:
        """Pessimism for thin support: ``pessimism * score_sd / sqrt(n_train * p(style | x))``.

        ``prop`` holds each profile's estimated propensity of each candidate's style, (n, k).
        The discount is the standard error of a mean over the ``n_train * p`` campaigns that
        back the style for such profiles, scaled by ``pessimism``: large for styles marketers
        rarely use for such businesses, shrinking as the log grows. 0 when disabled.
        """
        if self.pessimism <= 0 or self.n_train <= 0:
            return np.zeros_like(prop)
        return self.pessimism * self.score_sd / np.sqrt(self.n_train * np.maximum(prop, 1e-6))

    def rank(
        self,
        context: np.ndarray,
        objective: dict[str, float] | None = None,
        constraints: Constraints | None = None,
    ) -> dict[str, np.ndarray]:
        """Everything the policy computes for a batch of profiles.

        Returns ``preds`` (n, k, outcomes), ``scores`` (predicted objective, (n, k)),
        ``discount`` (support discount), ``ranking`` (scores - discount), ``prop`` (n, K),
        ``allowed`` (n, k) and ``choice`` (n,).
        """
        return self._rank(context, objective, constraints, typical=False)

    def _rank(
        self,
        context: np.ndarray,
        objective: dict[str, float] | None,
        constraints: Constraints | None,
        *,
        typical: bool,
    ) -> dict[str, np.ndarray]:
        """:meth:`rank`; with ``typical``, also ``typical`` (n,): the predicted objective of
        each profile's typical logged choice, the typical action of its likeliest style."""
        prop = self.propensities(context)
        extra = self.typical_actions[prop.argmax(1)] if typical else None
        preds, typical_preds = self._candidate_outcomes(context, extra)
        weights = self.weights(objective)
        scores = weighted(preds, weights)
        allowed = self._allowed(prop, constraints)
        discount = self.support_discount(prop[:, self.candidates.style_codes])
        ranking = scores - discount
        out = {
            "preds": preds, "scores": scores, "discount": discount, "ranking": ranking,
            "prop": prop, "allowed": allowed, "choice": self._top(ranking, allowed),
        }
        if typical_preds is not None:
            out["typical"] = weighted(typical_preds, weights)
        return out

    def choose(
        self,
        context: np.ndarray,
        objective: dict[str, float] | None = None,
        constraints: Constraints | None = None,
    ) -> np.ndarray:
        """Index of the recommended candidate for each profile (the policy as a function)."""
        return self.rank(context, objective, constraints)["choice"]

    def _allowed(self, prop: np.ndarray, constraints: Constraints | None) -> np.ndarray:
        """(n, k) mask: within support and constraints; falls back to the best-supported style."""
        cand_prop = prop[:, self.candidates.style_codes]
        by_constraint = (
            constraints.mask(self.candidates.frame, self.spec)
            if constraints
            else np.ones(len(self.candidates), dtype=bool)
        )
        if not by_constraint.any():
            raise ConstraintError("no candidate action satisfies the constraints")
        allowed = (cand_prop >= self.min_propensity) & by_constraint
        empty = ~allowed.any(1)
        if empty.any():  # nothing well supported: take the best-supported allowed style
            masked = np.where(by_constraint, cand_prop, -1.0)
            best = masked.max(1, keepdims=True)
            allowed[empty] = (masked[empty] >= best[empty] - 1e-12) & by_constraint
        return allowed

    def _top(self, scores: np.ndarray, allowed: np.ndarray) -> np.ndarray:
        masked = np.where(allowed, scores, -np.inf)
        choice = masked.argmax(1)
        if self.mode == "constant" and self.constant_action is not None:
            ok = allowed[:, self.constant_action]
            choice = np.where(ok, self.constant_action, choice)
        return choice

    # ------------------------------------------------------------------ recommend

    def recommend(
        self,
        profiles: pd.DataFrame,
        *,
        top_k: int = 3,
        objective: dict[str, float] | None = None,
        constraints: Constraints | None = None,
        explain: bool = True,
    ) -> list[dict[str, Any]]:
        """Ranked, explained recommendations for each profile (one dict per profile)."""
        return self.recommend_context(
            self.builder.encode_context(profiles),
            top_k=top_k, objective=objective, constraints=constraints, explain=explain,
        )

    def recommend_context(
        self,
        context: np.ndarray,
        *,
        top_k: int = 3,
        objective: dict[str, float] | None = None,
        constraints: Constraints | None = None,
        explain: bool = True,
    ) -> list[dict[str, Any]]:
        """:meth:`recommend` for profiles already encoded (``FeatureBuilder.encode_context``
        or ``encode_rows``)."""
        r = self._rank(context, objective, constraints, typical=True)
        preds, scores, prop, allowed, chosen = r["preds"], r["ranking"], r["prop"], r["allowed"], r["choice"]
        raw, discount, typical_scores = r["scores"], r["discount"], r["typical"]
        weights = self.weights(objective)
        results = []
        pairs: list[tuple[int, int, int]] = []  # (profile, chosen, runner-up) to explain
        for i in range(len(context)):
            order = self._rank_styles(scores[i], allowed[i], chosen[i], top_k)
            recs = [
                self._describe(rank, j, preds[i, j], raw[i, j], discount[i, j], typical_scores[i], prop[i])
                for rank, j in enumerate(order, start=1)
            ]
            results.append(
                {"recommendations": recs, "policy": self.policy_note(), "explanation": None}
            )
            if explain and len(order) >= 2:
                pairs.append((i, order[0], order[1]))
        if pairs:  # one pred_contrib call per outcome model for the whole batch
            explained = self.explain_pairs(context, pairs, weights, discount)
            for (i, _, _), explanation in zip(pairs, explained, strict=True):
                results[i]["explanation"] = explanation
        return results

    def _rank_styles(self, scores: np.ndarray, allowed: np.ndarray, first: int, limit: int) -> list[int]:
        """Up to ``limit`` candidates: the first choice, the best allowed action of each other
        style by score, then the next-best allowed variants (other mixes or cadences)."""
        styles = self.candidates.style_codes
        ranked = np.argsort(-np.where(allowed, scores, -np.inf))
        ranked = ranked[allowed[ranked]]  # allowed candidates, best first
        first_of_style = np.sort(np.unique(styles[ranked], return_index=True)[1])
        ordered = [int(first)] + [int(j) for j in ranked[first_of_style] if styles[j] != styles[first]]
        ordered.sort(key=lambda j: (j != first, -scores[j]))
        seen = set(ordered)
        for j in ranked:
            if len(ordered) >= limit:
                break
            if int(j) not in seen:
                ordered.append(int(j))
        return ordered[:limit]

    def _describe(
        self,
        rank: int,
        j: int,
        pred: np.ndarray,
        objective_pred: float,
        discount: float,
        typical: float,
        prop: np.ndarray,
    ) -> dict[str, Any]:
        row = self._candidate_rows()[j]
        style_code = int(self.candidates.style_codes[j])
        decisions = {
            c.name: (float(row[c.name]) if not isinstance(c, CategoricalColumn) else str(row[c.name]))
            for c in self.spec.extra_decisions
        }
        mix = {
            col.removeprefix("mix_"): round(float(row[col]), 4) for col in self.spec.mix_columns
        }
        predicted = {
            name: {
                "mean": float(pred[o]),
                "low": float(pred[o] - self.interval_halfwidth.get(name, 0.0)),
                "high": float(pred[o] + self.interval_halfwidth.get(name, 0.0)),
            }
            for o, name in enumerate(self._outcome_order)
        }
        p = float(prop[style_code])
        return {
            "rank": rank,
            "style": str(row[self.spec.style.name]),
            "posting_mix": mix,
            "decisions": decisions,
            "predicted": predicted,
            "score": float(objective_pred - discount),
            "predicted_objective": float(objective_pred),
            "support_discount": float(discount),
            "lift_vs_typical": float(objective_pred - typical),
            "support": {
                "propensity": p,
                "level": support_level(p),
                "within_support": p >= self.min_propensity,
            },
            "candidate_index": int(j),
        }

    def policy_note(self) -> dict[str, Any]:
        """What kind of policy this is, in words a caller can show."""
        if self.mode == "constant":
            note = (
                "Personalising did not beat the best single action on held-out data with "
                "confidence, so the same first recommendation is made for every profile."
            )
        else:
            note = "Recommendations are personalised to the profile."
        return {"mode": self.mode, "note": note}

    # ------------------------------------------------------------------ explain

    def contributions(
        self, rows: np.ndarray, weights: np.ndarray, row_profile: np.ndarray | None = None
    ) -> np.ndarray:
        """Per-feature contributions to the weighted objective for encoded rows, (n, F + 1).

        The last column is the bias; each row sums to the row's predicted objective.
        ``row_profile`` (optional) numbers the distinct profiles among the rows (rows with equal
        numbers have equal context columns): the style corrections, a function of the profile
        only, are then explained once per profile instead of once per row.
        """
        total = np.zeros((len(rows), rows.shape[1] + 1))
        for w, name in zip(weights, self._outcome_order, strict=True):
            if w != 0:
                contrib = self.outcome_models[name].predict(
                    rows, pred_contrib=True, num_threads=1
                )
                total += w * np.asarray(contrib)
        found = self._corrections()
        if found is not None:  # each row's style correction: contributions of its profile features
            corr, columns = found
            n_ctx = len(self.builder.context_names)
            if row_profile is None:
                row_profile = np.arange(len(rows))
            first = np.unique(row_profile, return_index=True)[1]  # one row per profile, in number order
            profile_contrib = corr.contributions(rows[first, :n_ctx])
            c = profile_contrib[np.searchsorted(row_profile[first], row_profile), :, rows[:, n_ctx].astype(int), :]
            w_corr = np.zeros(len(corr.outcomes))  # the objective's weights in the corrections' order
            w_corr[columns] = weights
            c = np.einsum("o,nof->nf", w_corr, c)
            total[:, :n_ctx] += c[:, :-1]
            total[:, -1] += c[:, -1]
        return total

    def explain(
        self,
        context_row: np.ndarray,
        chosen: int,
        runner_up: int,
        weights: np.ndarray,
        discount: np.ndarray | None = None,
    ) -> dict[str, Any]:
        """Why candidate ``chosen`` ranks above ``runner_up`` for this profile.

        Factors are the per-feature differences of the two rows' LightGBM contributions to
        the predicted objective, plus a ``support`` factor for the difference in support
        discount; all factors together sum exactly to the ranking-score difference.
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
    ) -> list[dict[str, Any]]:
        """:meth:`explain` for many ``(profile, chosen, runner_up)`` pairs at once.

        ``discount`` is the (n_profiles, k) support discount. The contributions of all pairs
        come from one ``pred_contrib`` call per outcome model: the call, not the row, is what
        a batch of single-profile requests would otherwise pay for again and again.
        """
        rows = np.vstack(
            [
                self.builder.cross(context[i][None, :], self.candidates.encoded[[a, b]])
                for i, a, b in pairs
            ]
        )
        contrib = self.contributions(rows, weights, np.repeat(np.arange(len(pairs)), 2))
        return [
            self._explanation(
                context[i], a, b, contrib[2 * p], contrib[2 * p + 1], discount[i, [a, b]]
            )
            for p, (i, a, b) in enumerate(pairs)
        ]

    def _explanation(
        self,
        context_row: np.ndarray,
        chosen: int,
        runner_up: int,
        contrib_a: np.ndarray,
        contrib_b: np.ndarray,
        disc: np.ndarray,
    ) -> dict[str, Any]:
        contrib = (contrib_a, contrib_b)
        diff = contrib_a - contrib_b
        names = self.builder.feature_names
        disc = np.asarray(disc, dtype=float)
        support = -(disc[0] - disc[1])
        candidates = [(abs(diff[f]), f) for f in range(len(names))]
        candidates.append((abs(support), -1))
        cand_rows = self._candidate_rows()
        a, b = cand_rows[chosen], cand_rows[runner_up]
        factors = []
        for size, f in sorted(candidates, key=lambda t: -t[0])[:5]:
            if size < 1e-12:
                break
            if f == -1:
                factors.append(
                    {
                        "feature": "support",
                        "value": None,
                        "runner_up_value": None,
                        "contribution": float(support),
                        "sentence": self._support_sentence(a, b, support),
                    }
                )
                continue
            name = names[f]
            factors.append(
                {
                    "feature": name,
                    "value": _jsonable(a[name] if name in a else self._context_value(context_row, f)),
                    "runner_up_value": _jsonable(b[name]) if name in b else None,
                    "contribution": float(diff[f]),
                    "sentence": self._sentence(name, f, diff[f], a, b, context_row),
                }
            )
        score_diff = float((contrib[0].sum() - disc[0]) - (contrib[1].sum() - disc[1]))
        total = float(diff.sum() + support)
        return {
            "chosen_style": str(a[self.spec.style.name]),
            "runner_up_style": str(b[self.spec.style.name]),
            "score_difference": score_diff,
            "contributions_sum": total,
            "factors": factors,
            "other_factors": float(total - sum(x["contribution"] for x in factors)),
        }

    def _support_sentence(self, a: Mapping[str, Any], b: Mapping[str, Any], value: float) -> str:
        style_a, style_b = _words(a[self.spec.style.name]), _words(b[self.spec.style.name])
        if value >= 0:
            return (
                f"The log holds more campaigns like this for {style_a} than for {style_b}, so its "
                f"estimate is surer; the less certain {style_b} estimate is discounted by {value:.2f}."
            )
        return (
            f"Fewer businesses like this have tried {style_a}, so its estimate is discounted by "
            f"{abs(value):.2f} more than {style_b}'s; it still comes out ahead."
        )

    def _context_value(self, context_row: np.ndarray, f: int) -> object:
        name = self.builder.feature_names[f]
        col = self.spec.column(name)
        if isinstance(col, CategoricalColumn):
            return col.values[int(context_row[f])]
        return float(context_row[f])

    def _sentence(
        self,
        name: str,
        f: int,
        value: float,
        a: Mapping[str, Any],
        b: Mapping[str, Any],
        context_row: np.ndarray,
    ) -> str:
        style_a, style_b = a[self.spec.style.name], b[self.spec.style.name]
        sign = "adds" if value > 0 else "costs"
        amount = f"{abs(value):.2f} objective points"
        if name == self.spec.style.name:
            return (
                f"For a business like this, {_words(style_a)} itself is worth {value:+.2f} "
                f"against {_words(style_b)}."
            )
        if name in self.spec.mix_columns:
            kind = _words(name.removeprefix("mix_"))
            return (
                f"A {kind} share of {float(a[name]):.0%} instead of {float(b[name]):.0%} of posts "
                f"{sign} {amount}."
            )
        if name in a:  # another decision
            return f"{_label(self.spec, name)} of {_fmt(a[name])} instead of {_fmt(b[name])} {sign} {amount}."
        shown = _fmt(self._context_value(context_row, f))
        lean = "favours" if value > 0 else "counts against"
        return (
            f"{_label(self.spec, name)} of {shown} {lean} {_words(style_a)} "
            f"over {_words(style_b)} by {abs(value):.2f} points."
        )


def weighted(preds: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """``preds @ weights`` over the last axis, summed in a fixed order: a BLAS product may
    round differently with the batch size, and a profile's answer must not depend on which
    other profiles share its batch."""
    total = np.zeros(preds.shape[:-1])
    for o, w in enumerate(weights):
        total += preds[..., o] * w
    return total


def _words(name: object) -> str:
    return str(name).replace("_", " ")


def _label(spec: CampaignSpec, name: str) -> str:
    """A column's description without its trailing unit note, e.g. 'Company size'."""
    try:
        desc = spec.column(name).description
    except KeyError:
        desc = ""
    desc = re.sub(r"\s*\([^)]*\)\s*$", "", desc).strip()
    desc = re.sub(r"^(the|a|an)\s+", "", desc, flags=re.IGNORECASE)
    return desc[:1].upper() + desc[1:] if desc else _words(name).capitalize()


def _fmt(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2g}" if abs(v) < 1 else f"{v:.1f}"
    return str(value)


def _jsonable(value: object) -> object:
    if isinstance(value, (np.floating, float)):
        return float(value)
    if isinstance(value, (np.integer, int)):
        return int(value)
    return str(value)
