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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from engage.contract.spec import CampaignSpec
from engage.decisions.records import DecisionRecord, utcnow
from engage.policy.exploration import Exploration, draw, draw_seed


class Ranked(Protocol):
    style: str
    model_score: float  # the models' score (a pinned first recommendation has no score)
    posting_mix: Mapping[str, float]
    decisions: Mapping[str, Any]


R = TypeVar("R", bound=Ranked)


@dataclass(frozen=True)
class Served(Generic[R]):
    """The recommendations to show (served first), the served one's probability, the options."""

    recommendations: list[R]
    probability: float
    moved: bool  # whether exploration served other than the policy's first choice
    options: list[dict[str, Any]]  # one per style drawn among, with its probability


def ask_k(top_k: int, how: Exploration, n_styles: int) -> int:
    """How many recommendations to ask the policy for: ``top_k``, or one per style when
    exploring (so every allowed style can be drawn)."""
    return top_k if how.method == "greedy" else max(top_k, n_styles)


def explore(
    recommendations: Sequence[R],
    how: Exploration,
    profile: Mapping[str, Any],
    decision_id: str,
    top_k: int,
) -> Served[R]:
    """Draw the served style among ``recommendations`` (the policy's, first choice first).

    The options are the best recommendation of each style; the draw is seeded from
    ``(profile, decision_id)``. Returns at most ``top_k`` recommendations, the served first.
    """
    recs = list(recommendations)
    firsts: list[int] = []
    seen: set[str] = set()
    for i, rec in enumerate(recs):
        if rec.style not in seen:
            seen.add(rec.style)
            firsts.append(i)
    scores = [float(recs[i].model_score) for i in firsts]  # a pinned first has no score
    seed = 0 if how.method == "greedy" else draw_seed(profile, decision_id)  # greedy draws nothing
    got = draw(scores, 0, how, seed)
    options = [
        {
            "style": recs[i].style,
            "score": float(recs[i].model_score),
            "probability": float(p),
            "posting_mix": dict(recs[i].posting_mix),
            "decisions": dict(recs[i].decisions),
        }
        for i, p in zip(firsts, got.probabilities, strict=True)
    ]
    served = firsts[got.index]
    order = [served, *[i for i in range(len(recs)) if i != served]][:top_k]
    return Served([recs[i] for i in order], got.probability, served != 0, options)


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
        posting_mix=dict(first.posting_mix),
        decisions=dict(first.decisions),
        probability=served.probability,
        method=how.method,
        exploration={"epsilon": how.epsilon, "temperature": how.temperature},
        objective=dict(objective),
        alternatives=served.options,
        outcome_types={o.name: o.type for o in spec.outcomes},
    )
