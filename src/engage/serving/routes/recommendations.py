"""``POST /v1/recommendations`` and ``/v1/recommendations/batch``.

Both need an API key when keys are configured, and count against its rate limit
(:func:`~engage.serving.deps.require_api_key`). Route docstrings are one sentence: FastAPI
turns them into the OpenAPI descriptions.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends

from engage.serving.deps import SCORING_ERRORS, Batcher, Metrics, Model, Settings, require_api_key
from engage.serving.errors import ApiError
from engage.serving.schemas import (
    BatchItem,
    BatchRecommendationRequest,
    BatchRecommendationResponse,
    ModelRef,
    RecommendationRequest,
    RecommendationResponse,
)
from engage.serving.scoring import Question, answer_rows, scoring_inputs

router = APIRouter(dependencies=[Depends(require_api_key)])


@router.post(
    "/v1/recommendations",
    response_model=RecommendationResponse,
    responses=SCORING_ERRORS,
    tags=["recommendations"],
)
async def recommend(
    body: RecommendationRequest,
    model: Model,
    settings: Settings,
    metrics: Metrics,
    batcher: Batcher,
) -> RecommendationResponse:
    """Rank engagement styles with posting mix and cadence for one business profile, and explain the first choice."""
    rows, objective, constraints = scoring_inputs(model, [body.profile], ["profile"], body)
    question = Question(
        model, body.top_k or settings.default_top_k, objective, constraints, body.explain
    )
    item: BatchItem = (await batcher.submit(question.key(), rows, question))[0]
    metrics.profiles.inc()
    return RecommendationResponse(
        recommendations=item.recommendations,
        explanation=item.explanation,
        policy=item.policy,
        score_unit=item.score_unit,
        model=ModelRef.model_validate(model.ref()),
    )


@router.post(
    "/v1/recommendations/batch",
    response_model=BatchRecommendationResponse,
    responses=SCORING_ERRORS,
    tags=["recommendations"],
)
def recommend_batch(
    body: BatchRecommendationRequest, model: Model, settings: Settings, metrics: Metrics
) -> BatchRecommendationResponse:
    """Recommend for several profiles at once with one objective and one set of constraints."""
    if len(body.profiles) > settings.max_batch:
        raise ApiError(
            413,
            "batch_too_large",
            f"batch of {len(body.profiles)} profiles is over the limit of {settings.max_batch} "
            "(ENGAGE_SERVE_MAX_BATCH); split it",
            [{"field": "profiles", "message": f"at most {settings.max_batch} profiles"}],
        )
    fields = [f"profiles[{i}]" for i in range(len(body.profiles))]
    rows, objective, constraints = scoring_inputs(model, body.profiles, fields, body)
    question = Question(
        model, body.top_k or settings.default_top_k, objective, constraints, body.explain
    )
    answers = answer_rows(rows, question)
    metrics.profiles.inc(len(answers))
    return BatchRecommendationResponse(results=answers, model=ModelRef.model_validate(model.ref()))
