"""Serve with exploration and build the decision record, over any ranked recommendations.

The serving layer asks the policy for enough alternatives (one per style), then
:func:`explore` draws the served style among the recommendations it got back: those are all
within the support floor and the caller's constraints (the policy lists no other), so
exploration can never serve anything else. The served one goes first; the rest keep the
policy's order. :func:`record` turns the answer into a :class:`DecisionRecord`.

Recommendations are read by attribute (``style``, ``score``, ``posting_mix``, ``decisions``),
so the API's response models and the policy's records both fit.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

import numpy as np

from engage.contract.spec import CampaignSpec
from engage.decisions.records import DecisionRecord, utcnow
from engage.policy.exploration import (
    BUDGET_SCALES,
    Exploration,
    Objective,
    Region,
    continuous_costs,
    distribution,
    draw_continuous,
    draw_from,
    draw_seed,
    fit_scale,
    movable,
    style_cost,
    thin,
)
from engage.policy.logging_policy import served_probabilities


class Ranked(Protocol):
    style: str
    model_score: float  # the models' score (a pinned first recommendation has no score)
    posting_mix: Mapping[str, float]
    decisions: Mapping[str, Any]


R = TypeVar("R", bound=Ranked)


@dataclass(frozen=True)
class Continuous:
    """What a full-action draw needs from the serving side: where draws may land, the names of
    the mix shares (``posting_mix`` keys) and numeric decisions in order, and the model's
    predicted objective of actions of a style (for the budget)."""

    where: Region
    mix_keys: list[str]
    numeric: list[str]
    objective: Callable[[Any], Objective]  # of a recommendation: its style, other decisions


@dataclass(frozen=True)
class Served(Generic[R]):
    """The recommendations to show (served first), the served one's probability, the options,
    and, with full-action exploration, the drawn continuous decisions and their density."""

    recommendations: list[R]
    probability: float
    moved: bool  # whether exploration served other than the policy's first choice
    options: list[dict[str, Any]]  # one per style drawn among, with its probability
    action: dict[str, dict[str, Any]] | None = None  # drawn posting_mix and decisions
    density: float | None = None  # density of the continuous draw at the drawn action
    parameters: dict[str, Any] = field(default_factory=dict)  # the continuous draw's
    cost: float = 0.0  # expected objective given up by exploring (model-estimated)
    # how the served style was drawn when not by the request's exploration: "logging" (a
    # logging policy's answer, drawn from the logging distribution); None: the exploration's
    method: str | None = None


def ask_k(top_k: int, how: Exploration, n_styles: int) -> int:
    """How many recommendations to ask the policy for: ``top_k``, or one per style when
    exploring (so every allowed style can be drawn)."""
    return max(top_k, n_styles) if how.method != "greedy" else top_k


def explore(
    recommendations: Sequence[R],
    how: Exploration,
    profile: Mapping[str, Any],
    decision_id: str,
    top_k: int,
    *,
    continuous: Continuous | None = None,
    allowance: float = math.inf,
) -> Served[R]:
    """Draw the served style among ``recommendations`` (the policy's, first choice first), and
    with ``how.full`` its continuous decisions around the policy's for that style.

    The options are the best recommendation of each style; the draws are seeded from
    ``(profile, decision_id)``. The expected objective given up stays within ``how.budget``
    and ``allowance`` (the service's). Returns at most ``top_k`` recommendations, the served
    first.
    """
    recs = list(recommendations)
    firsts: list[int] = []
    seen: set[str] = set()
    for i, rec in enumerate(recs):
        if rec.style not in seen:
            seen.add(rec.style)
            firsts.append(i)
    scores = [float(recs[i].model_score) for i in firsts]  # a pinned first has no score
    seed = draw_seed(profile, decision_id) if how.explores else 0  # greedy draws nothing
    objectives = np.array([_objective(recs[i]) for i in firsts])
    allowed = min(allowance, math.inf if how.budget is None else how.budget)
    p = distribution(scores, 0, how)
    p = thin(p, 0, style_cost(p, objectives), allowed)
    cost = style_cost(p, objectives)
    got = draw_from(p, 0, seed)
    options = [
        {
            "style": recs[i].style,
            "score": float(recs[i].model_score),
            "probability": float(q),
            "posting_mix": dict(recs[i].posting_mix),
            "decisions": dict(recs[i].decisions),
        }
        for i, q in zip(firsts, p, strict=True)
    ]
    served = firsts[got.index]
    order = [served, *[i for i in range(len(recs)) if i != served]][:top_k]
    out = Served([recs[i] for i in order], got.probability, served != 0, options, cost=cost)
    if how.full and continuous is not None:
        out = _draw_action(out, recs[served], continuous, seed, allowed - cost)
    return out


def draw_logging(
    recommendations: Sequence[R], profile: Mapping[str, Any], decision_id: str, top_k: int
) -> Served[R]:
    """A logging policy's answer served: the style drawn from the logging distribution over
    the options the policy listed (one per style it may draw, each with its
    ``support.propensity``; :func:`engage.policy.logging_policy.served_probabilities`), seeded
    from ``(profile, decision_id)`` as exploration's draws are. The drawn option goes first;
    its probability is the one recorded, with no density (the mix and cadence are not drawn).
    A request's exploration does not apply: the served style is already drawn with known
    probabilities."""
    recs = list(recommendations)
    p = served_probabilities([_propensity(rec) for rec in recs])
    got = draw_from(p, int(p.argmax()), draw_seed(profile, decision_id))
    options = [
        {
            "style": rec.style,
            "score": float(rec.model_score),
            "probability": float(q),
            "posting_mix": dict(rec.posting_mix),
            "decisions": dict(rec.decisions),
        }
        for rec, q in zip(recs, p, strict=True)
    ]
    order = [got.index, *[i for i in range(len(recs)) if i != got.index]][:top_k]
    return Served(
        [recs[i] for i in order], got.probability, got.index != 0, options, method="logging"
    )


def _propensity(rec: Any) -> float:
    return float(rec.support.propensity)


def _objective(rec: Any) -> float:
    """An option's value for the style's cost: what the policy ranks by (its model score, the
    predicted objective less the support discount), so a style the log barely supports is not
    counted as a gain for its raw prediction; the predicted objective where there is no score."""
    value = getattr(rec, "model_score", None)
    return float(rec.predicted_objective if value is None else value)


def _draw_action(
    served: Served[R], rec: Ranked, how: Continuous, seed: int, allowed: float
) -> Served[R]:
    """``served`` with the continuous decisions of ``rec`` drawn around its own, within what is
    ``allowed`` to give up; unchanged where they cannot move or no width fits."""
    mix = np.array([float(rec.posting_mix[k]) for k in how.mix_keys])
    if mix.size:
        mix = mix / mix.sum()
    numeric = np.array([float(rec.decisions[k]) for k in how.numeric])
    if not movable(mix, numeric, how.where):
        return served
    # uncapped, the widest scale is drawn whatever it costs: estimate that one alone
    scales = BUDGET_SCALES if math.isfinite(allowed) else BUDGET_SCALES[:1]
    costs = continuous_costs(mix, numeric, how.where, how.objective(rec), seed, scales)
    scale = fit_scale(costs, allowed)
    if scale <= 0.0:
        return served
    got = draw_continuous(mix, numeric, how.where, scale, seed)
    action = {
        "posting_mix": {
            **rec.posting_mix,
            **dict(zip(how.mix_keys, map(float, got.mix), strict=True)),
        },
        "decisions": {
            **rec.decisions,
            **dict(zip(how.numeric, map(float, got.numeric), strict=True)),
        },
    }
    return Served(
        served.recommendations,
        served.probability,
        served.moved,
        served.options,
        action=action,
        density=got.density,
        parameters=got.parameters(),
        cost=served.cost + costs[scale],
    )


def record(
    *,
    decision_id: str,
    spec: CampaignSpec,
    model: Mapping[str, str | None],
    profile: Mapping[str, Any],
    served: Served[Any],
    how: Exploration,
    objective: Mapping[str, float],
) -> DecisionRecord:
    """The decision record of one served answer."""
    first = served.recommendations[0]
    action = served.action or {"posting_mix": first.posting_mix, "decisions": first.decisions}
    return DecisionRecord(
        decision_id=decision_id,
        decided_at=utcnow(),
        model_name=model.get("name"),
        model_version=model.get("version"),
        run_id=model.get("run_id"),
        model_uri=model.get("uri"),
        spec_name=spec.name,
        spec_fingerprint=spec.fingerprint,
        profile=dict(profile),
        style=first.style,
        posting_mix=dict(action["posting_mix"]),
        decisions=dict(action["decisions"]),
        probability=served.probability,
        method=served.method or how.method,
        exploration={}
        if served.method
        else {
            "epsilon": how.epsilon,
            "temperature": how.temperature,
            **({"full": 1.0} if how.full else {}),
            **({"budget": how.budget} if how.budget is not None else {}),
            "cost": served.cost,
        },
        density=served.density,
        continuous=served.parameters,
        objective=dict(objective),
        alternatives=served.options,
        outcome_types={o.name: o.type for o in spec.outcomes},
    )
