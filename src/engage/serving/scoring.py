"""Scoring for the routes: validate a request against the served spec, ask the policy, serve its answer.

The policy's typed answer is the response: :class:`~engage.serving.schemas.BatchItem` extends
:class:`~engage.policy.results.Answer` (and its recommendations the policy's), so every field
the policy answers with is copied whole, none named here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from engage.policy import results
from engage.policy.policy import ConstraintError, Constraints
from engage.serving.errors import (
    ApiError,
    clip,
    from_validation_error,
    invalid,
    validation_details,
)
from engage.serving.model import LoadedModel
from engage.serving.schemas import (
    BatchItem,
    BatchRecommendationRequest,
    RecommendationRequest,
    ServedRecommendation,
)


def scoring_inputs(
    model: LoadedModel,
    profiles: list[dict[str, Any]],
    fields: list[str],
    body: RecommendationRequest | BatchRecommendationRequest,
) -> tuple[list[list[Any]], dict[str, float] | None, Constraints | None]:
    """Check the profiles, objective and constraints against the model's spec; every problem named."""
    contract = model.contract
    details: list[dict[str, str | None]] = []
    rows = []
    for raw, prefix in zip(profiles, fields, strict=True):
        try:
            rows.append(contract.profile_row(raw))
        except ValidationError as exc:
            details += validation_details(
                exc.errors(include_url=False, include_input=False), prefix
            )
    objective = constraints = None
    try:
        objective = contract.objective(body.objective)
    except ValidationError as exc:
        details += from_validation_error(exc, "objective").details
    try:
        constraints = contract.constraints(body.constraints)
    except ValidationError as exc:
        details += from_validation_error(exc, "constraints").details
    if details:
        raise invalid(details)
    return rows, objective, constraints


@dataclass(frozen=True)
class Question:
    """What a scoring request asks, besides its profiles; equal questions share a batch."""

    model: LoadedModel
    top_k: int
    objective: dict[str, float] | None
    constraints: Constraints | None
    explain: bool

    def key(self) -> tuple[Any, ...]:
        """A hashable identity: same model object, same objective, constraints and options."""
        objective = tuple(sorted(self.objective.items())) if self.objective else None
        return (id(self.model), self.top_k, self.explain, objective, repr(self.constraints))


def answer_rows(rows: list[list[Any]], question: Question) -> list[BatchItem]:
    """The shaped answers for validated profile rows (blocking: runs on a worker thread)."""
    model = question.model
    try:
        answers = model.policy.recommend_context(
            model.policy.builder.encode_rows(rows),
            top_k=question.top_k,
            objective=question.objective,
            constraints=question.constraints,
            explain=question.explain,
        )
    except ConstraintError as exc:
        raise ApiError(
            422,
            "unsatisfiable_constraints",
            "no candidate action satisfies these constraints; loosen them (GET /v1/schema lists them)",
            [{"field": "constraints", "message": clip(str(exc))}],
        ) from exc
    return [_batch_item(answer) for answer in answers]


def _batch_item(answer: results.Answer) -> BatchItem:
    """The answer as served: all its fields, its recommendations as served ones."""
    recommendations = tuple(ServedRecommendation(**dict(rec)) for rec in answer.recommendations)
    return BatchItem(**{**dict(answer), "recommendations": recommendations})
