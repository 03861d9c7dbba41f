"""How well the outcome models fit, as an answer says it: the fit note and the hedged explanation.

An outcome model's held-out R² (``eval.<outcome>.r2``, logged by training and kept in the
model's metadata) says how much of the variation of that outcome across logged campaigns the
model explains. Where it explains little, the differences it predicts between two plans are
mostly noise: the answer says so (:class:`~engage.policy.results.FitNote`) and its explanation's
sentences about what one plan costs against another are worded as the model's unconfirmed
estimate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from engage.policy.answers import confirmed_gain
from engage.policy.results import Explanation, FitNote, PolicyNote

#: Below this held-out R² an outcome model "explains little". A tenth of the variance: at that
#: level the predicted difference between two plans is of the order of the model's own error
#: for most campaigns, so a sentence like "organic instead of paid costs 260 points" would claim
#: more than the model knows. It is not a gate (the shipping decision rests on the off-policy
#: evaluation, which does not need a good fit to be valid), only when answers and the report
#: warn; the Facebook example's models (R² 0.00007 to 0.024) are far below it, the simulated
#: worlds' (0.3 to 0.8) far above.
WEAK_FIT_R2 = 0.1

_METRIC = "eval.{}.r2"


def fit_note(metrics: Mapping[str, Any], outcomes: Sequence[str]) -> FitNote | None:
    """The fit note of a model whose training metrics are ``metrics`` (None: the metrics hold
    no outcome model's R², e.g. a model built by hand)."""
    r2 = {
        o: float(metrics[_METRIC.format(o)])
        for o in outcomes
        if isinstance(metrics.get(_METRIC.format(o)), int | float)
        and math.isfinite(float(metrics[_METRIC.format(o)]))
    }
    if not r2:
        return None
    weak = tuple(o for o, v in r2.items() if v < WEAK_FIT_R2)
    if not weak:
        note = (
            f"The outcome models explain at least {WEAK_FIT_R2:.0%} of the logged outcomes' "
            "variation on held-out campaigns (held-out R²)."
        )
    else:
        said = ", ".join(f"{o} {r2[o]:.2g}" for o in weak)
        note = (
            f"The outcome models of {', '.join(weak)} explain little of the logged outcomes "
            f"(held-out R² {said}, below {WEAK_FIT_R2:g}): the differences they predict between "
            "plans are mostly noise, so read the forecasts and the explanation as unconfirmed "
            "estimates; the policy that ships was judged off-policy, not by these models."
        )
    return FitNote(r2=r2, weak=weak, threshold=WEAK_FIT_R2, note=note)


def matters(fit: FitNote | None, outcomes: Sequence[str], weights: Iterable[float]) -> bool:
    """Whether an outcome that explains little weighs in the objective ``weights`` (in the
    order of ``outcomes``)."""
    if fit is None or not fit.weak:
        return False
    return any(float(w) != 0 and o in fit.weak for o, w in zip(outcomes, weights, strict=True))


def hedged(explanation: Explanation, fit: FitNote) -> Explanation:
    """``explanation`` worded as the model's unconfirmed estimate (its numbers unchanged)."""
    warn = " (the model's estimate; its fit is weak: see fit)"
    # the support factor is the log's count, not the outcome models': it stays as it is
    factors = tuple(
        f
        if f.feature == "support"
        else f.model_copy(update={"sentence": f.sentence.rstrip(".") + warn + "."})
        for f in explanation.factors
    )
    summary = (
        f"Unconfirmed: the outcome models of {', '.join(fit.weak)} explain little of the "
        f"logged outcomes. {explanation.summary}"
        if explanation.summary
        else explanation.summary
    )
    return explanation.model_copy(update={"factors": factors, "summary": summary})


def with_training_figures(
    metrics: Mapping[str, Any],
    outcomes: Sequence[str],
    weights: Iterable[float],
    notes: list[PolicyNote],
    explanations: dict[int, Explanation],
) -> tuple[list[PolicyNote], dict[int, Explanation], FitNote | None]:
    """What a model's training metrics add to its answers: the decision's confirmed gain in
    each policy note, the fit note, and the explanations hedged when the objective ``weights``
    (in the order of ``outcomes``) weigh an outcome whose model explains little."""
    fit = fit_note(metrics, outcomes)
    gain = confirmed_gain(metrics)
    if gain is not None:
        notes = [n.model_copy(update={"confirmed_gain": gain}) for n in notes]
    if fit is not None and matters(fit, outcomes, weights):
        explanations = {i: hedged(e, fit) for i, e in explanations.items()}
    return notes, explanations, fit
