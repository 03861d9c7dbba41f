"""Scores of candidate actions: predicted outcomes, the weighted objective, the support discount.

The one weighted objective (:func:`weighted`) and the one softmax (:func:`softmax`) of the
project live here; training imports them rather than writing its own, so a policy scores
exactly as it was evaluated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import lightgbm as lgb
import numpy as np

from engage.policy.candidates import CandidateSet

# A LightGBM predict call pays for its threads only on big batches; a request's few hundred
# candidate rows run faster, and identically, on one.
THREADED_ROWS = 20_000


def weighted(preds: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted objective ``preds @ weights`` over the last axis.

    Summed outcome by outcome in a fixed order: a BLAS product may round differently with the
    batch size, and a profile's answer must not depend on which other profiles share its batch.

    Args:
        preds: predicted outcomes, outcomes on the last axis.
        weights: one signed weight per outcome.

    Returns:
        ``preds`` with the last axis summed away.
    """
    total = np.zeros(preds.shape[:-1])
    for o, w in enumerate(weights):
        total += preds[..., o] * w
    return total


def softmax(raw: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Row-wise softmax of raw multiclass scores, ``raw / temperature``.

    Args:
        raw: raw scores, (n, n_classes).
        temperature: above 1 flattens the probabilities, below 1 sharpens them.

    Returns:
        Probabilities, (n, n_classes); each row sums to 1.
    """
    z = raw / temperature
    z = z - z.max(1, keepdims=True)  # exp of the largest score is 1: no overflow
    e = np.exp(z)
    p: np.ndarray = e / e.sum(1, keepdims=True)
    return p


def support_discount(
    propensity: np.ndarray, *, pessimism: float, score_sd: float, n_train: int
) -> np.ndarray:
    """Pessimism for thin support: ``pessimism * score_sd / sqrt(n_train * p(style | x))``.

    The discount is the standard error of a mean over the ``n_train * p`` campaigns that back
    the style for such profiles, scaled by ``pessimism``: large for styles marketers rarely use
    for such businesses, shrinking as the log grows.

    Args:
        propensity: each profile's estimated propensity of each candidate's style, (n, k).
        pessimism: standard errors subtracted (0 disables the discount).
        score_sd: standard deviation of the objective in the training log.
        n_train: campaigns in the training log (0 disables the discount).

    Returns:
        The discount, shaped like ``propensity``.
    """
    if pessimism <= 0 or n_train <= 0:
        return np.zeros_like(propensity)
    discount: np.ndarray = pessimism * score_sd / np.sqrt(n_train * np.maximum(propensity, 1e-6))
    return discount


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
        shape = (len(context), len(self.outcomes), self.n_styles)
        out: np.ndarray = raw.reshape(shape) + self.offsets[None]
        return out

    def for_rows(self, context: np.ndarray, style: np.ndarray) -> np.ndarray:
        """Each row's correction for its own style code, (n, n_outcomes) in ``outcomes`` order."""
        return self.predict(context)[np.arange(len(context)), :, np.asarray(style, dtype=int)]

    def contributions(self, context: np.ndarray) -> np.ndarray:
        """``pred_contrib`` of the corrections, (n, n_outcomes, n_styles, n_context + 1), bias last."""
        raw = np.asarray(self.booster.predict(context, pred_contrib=True, num_threads=1))
        shape = (len(context), len(self.outcomes), self.n_styles, context.shape[1] + 1)
        out = raw.reshape(shape).copy()
        out[..., -1] += self.offsets[None]
        return out

    def columns(self, outcomes: Sequence[str]) -> list[int]:
        """Position among the corrections' outcomes of each of ``outcomes``, in that order.

        The one mapping from a policy's outcome order to the corrections' columns.
        """
        return [self.outcomes.index(o) for o in outcomes]


@dataclass(frozen=True)
class OutcomePredictor:
    """The outcome models of a policy, in its outcome order, with their style corrections.

    A prediction is each outcome model's plus, when training fitted them, the profile's
    correction for the row's style.

    Attributes:
        outcomes: outcome names in the policy's order.
        boosters: one LightGBM booster per outcome, same order.
        n_context: context features at the front of each encoded row.
        corrections: the style corrections, or None.
    """

    outcomes: tuple[str, ...]
    boosters: tuple[lgb.Booster, ...]
    n_context: int
    corrections: StyleCorrections | None = None

    @classmethod
    def build(
        cls,
        models: Mapping[str, lgb.Booster],
        outcome_order: Sequence[str],
        n_context: int,
        corrections: StyleCorrections | None,
    ) -> OutcomePredictor:
        """The predictor of ``models`` taken in ``outcome_order``."""
        return cls(
            tuple(outcome_order), tuple(models[o] for o in outcome_order), n_context, corrections
        )

    @property
    def correction_columns(self) -> list[int]:
        """Each outcome's column among the corrections' outcomes ([] without corrections)."""
        return [] if self.corrections is None else self.corrections.columns(self.outcomes)

    def model_outcomes(self, rows: np.ndarray) -> np.ndarray:
        """The outcome models' predictions alone, (n_rows, n_outcomes)."""
        threads = 1 if len(rows) < THREADED_ROWS else 0
        return np.column_stack([b.predict(rows, num_threads=threads) for b in self.boosters])

    def style_correction(self, context: np.ndarray) -> np.ndarray | None:
        """Per-style corrections, (n, n_outcomes, n_styles), or None without corrections."""
        if self.corrections is None:
            return None
        return self.corrections.predict(context)[:, self.correction_columns, :]

    def predict(self, rows: np.ndarray) -> np.ndarray:
        """Predicted outcomes of encoded feature rows, (n_rows, n_outcomes)."""
        preds = self.model_outcomes(rows)
        if self.corrections is not None:
            n_ctx = self.n_context
            own = self.corrections.for_rows(rows[:, :n_ctx], rows[:, n_ctx])
            preds += own[:, self.correction_columns]
        return preds

    def candidates(
        self, context: np.ndarray, candidates: CandidateSet, extra: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Predicted outcomes of every candidate for each profile, and of one extra row each.

        The extra encoded decision rows ride in the same LightGBM call as the candidates, and
        the style corrections (a function of the profile only) are predicted once for both.

        Args:
            context: encoded profiles, (n, n_context).
            candidates: the candidate actions (k of them).
            extra: one encoded decision row per profile, (n, n_decisions), or None.

        Returns:
            The candidates' outcomes (n, k, n_outcomes) and the extra rows' (n, n_outcomes),
            None without ``extra``.
        """
        index = np.broadcast_to(np.arange(len(candidates)), (len(context), len(candidates)))
        return self.indexed(context, candidates, index, extra)

    def indexed(
        self,
        context: np.ndarray,
        candidates: CandidateSet,
        index: np.ndarray,
        extra: np.ndarray | None = None,
        where: np.ndarray | None = None,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """:meth:`candidates` where each profile has its own candidates: ``index`` (n, m)
        holds the candidate rows of each profile (its cluster's, see ``Policy``).

        Args:
            where: which of ``index``'s positions to predict, (n, m); the others are NaN.
                Each prediction is the one the whole batch gives (a row's prediction does not
                depend on the other rows): a caller that needs only some candidates' scores
                pays for those alone. None: every position.

        Returns:
            The outcomes (n, m, n_outcomes) of each profile's candidates, and the extra rows'
            (n, n_outcomes) or None.
        """
        n, m = index.shape
        if where is None:
            rows = np.hstack([np.repeat(context, m, axis=0), candidates.encoded[index.ravel()]])
        else:
            at, pos = np.nonzero(where)
            rows = np.hstack([context[at], candidates.encoded[index[at, pos]]])
        if extra is not None:
            rows = np.vstack([rows, np.hstack([context, extra])])
        flat = self.model_outcomes(rows)
        n_pred = len(rows) - (0 if extra is None else n)
        if where is None:
            preds = flat[:n_pred].reshape(n, m, -1)
        else:
            preds = np.full((n, m, flat.shape[1]), np.nan)
            preds[at, pos] = flat[:n_pred]
        extra_preds = flat[n_pred:] if extra is not None else None
        corr = self.style_correction(context)
        if corr is not None:
            codes = candidates.style_codes[index]  # (n, m)
            preds += np.take_along_axis(corr, codes[:, None, :], axis=2).transpose(0, 2, 1)
            if extra is not None and extra_preds is not None:
                extra_preds += corr[np.arange(n), :, extra[:, 0].astype(int)]
        return preds, extra_preds
