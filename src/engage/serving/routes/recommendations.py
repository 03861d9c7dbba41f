"""``POST /v1/recommendations`` and ``/v1/recommendations/batch``.

Both need an API key when keys are configured, and count against its rate limit
(:func:`~engage.serving.deps.require_api_key`). Route docstrings are one sentence: FastAPI
turns them into the OpenAPI descriptions.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Depends, Request

from engage.contract.redaction import redact
from engage.decisions import capture
from engage.decisions.records import new_decision_id
from engage.decisions.writer import DURABLE_WAIT_S, DecisionWriter
from engage.policy.constraints import Constraints
from engage.policy.exploration import BudgetLedger, Exploration
from engage.serving import exploring
from engage.serving.deps import (
    SCORING_ERRORS,
    Batcher,
    KeyedRoute,
    Metrics,
    Model,
    Settings,
    require_api_key,
)
from engage.serving.errors import ApiError
from engage.serving.metrics import ServingMetrics
from engage.serving.model import LoadedModel
from engage.serving.schemas import (
    BatchItem,
    BatchRecommendationRequest,
    BatchRecommendationResponse,
    ModelRef,
    RecommendationRequest,
    RecommendationResponse,
)
from engage.serving.scoring import Question, answer_rows, scoring_inputs
from engage.serving.settings import ServeSettings

router = APIRouter(dependencies=[Depends(require_api_key)], route_class=KeyedRoute)
log = logging.getLogger("engage.decisions")


def exploration_of(
    body: RecommendationRequest | BatchRecommendationRequest, settings: ServeSettings
) -> Exploration:
    """The request's exploration, its unset parts (or all of it) from the settings."""
    return exploring.exploration_from(body.exploration, settings)


def refuse_if_unrecordable(writer: DecisionWriter | None, metrics: ServingMetrics) -> None:
    """503 when the decision spool (or queue) is full: no decision id is handed out that
    could not be kept (counted in ``engage_decisions_refused``)."""
    reason = writer.refusal() if writer is not None else None
    if reason is not None:
        metrics.decisions_refused.inc()
        raise ApiError(503, "decisions_unavailable", f"cannot record decisions now: {reason}")


async def recorded(writer: DecisionWriter | None) -> None:
    """Wait (at most ``DURABLE_WAIT_S``) until the decisions queued so far are fsynced in the
    spool: an id is handed out only once its decision survives a crash of the process."""
    if writer is not None:
        try:
            await asyncio.wait_for(asyncio.wrap_future(writer.durable()), DURABLE_WAIT_S)
        except TimeoutError:
            log.warning("decision spool slower than %.1f s: answering anyway", DURABLE_WAIT_S)


@dataclass(frozen=True)
class Serving:
    """What every profile of one request is served with."""

    model: LoadedModel
    how: Exploration
    top_k: int
    objective: dict[str, float] | None
    constraints: Constraints | None
    writer: DecisionWriter | None
    metrics: ServingMetrics
    ledger: BudgetLedger


def serve(item: BatchItem, row: list[Any], on: Serving) -> BatchItem:
    """Draw the served recommendation, give the answer its decision id, queue its record.

    Greedy leaves the policy's answer as it is (probability 1). With full-action exploration
    the served mix and numeric decisions are drawn around the policy's, and the expected
    objective given up is charged to the service's budget. Recording only enqueues: a
    record that cannot be built is counted as failed and logged; a queue that filled since
    :func:`refuse_if_unrecordable` looked is a 503 (no id handed out that is not recorded).
    """
    model, how, objective, writer, metrics = on.model, on.how, on.objective, on.writer, on.metrics
    decision_id = new_decision_id()
    spec = model.policy.spec
    profile = dict(zip(spec.context_names, row, strict=True))
    served = _served(item, row, on, profile, decision_id)
    if how.explores and served.method is None:
        metrics.exploration_cost.set(on.ledger.charge(served.cost))
        metrics.exploration_cost_total.inc(max(served.cost, 0.0))
    drawn = {**(served.action or {}), "density": served.density}
    recommendations = tuple(
        rec.model_copy(
            update={"rank": i, "probability": served.probability, **drawn}
            if i == 1
            else {"rank": i, "probability": None}
        )
        for i, rec in enumerate(served.recommendations, start=1)
    )
    if writer is not None:
        try:
            weights = spec.outcome_weights(objective or model.policy.objective or None)
            decision = capture.record(
                decision_id=decision_id,
                spec=spec,
                model=model.ref(),
                profile=profile,
                served=served,
                how=how,
                objective=weights,
            )
        except Exception as exc:  # noqa: BLE001 - recording must never fail the request
            metrics.decisions_failed.inc()
            log.error("could not record decision %s: %s", decision_id, redact(exc)[:500])
        else:
            if not writer.submit(decision):  # the queue filled since the check: no id handed out
                metrics.decisions_refused.inc()
                raise ApiError(
                    503, "decisions_unavailable", "cannot record decisions now: queue full"
                )
    return item.model_copy(
        update={
            "decision_id": decision_id,
            "recommendations": recommendations,
            "explanation": None if served.moved else item.explanation,
        }
    )


def _served(
    item: BatchItem, row: list[Any], on: Serving, profile: dict[str, Any], decision_id: str
) -> capture.Served[Any]:
    """The served draw: a logging policy's answer from its logging distribution (the request's
    exploration does not apply: the style is already drawn with known probabilities), any
    other answer by the request's exploration."""
    policy = on.model.policy
    if item.recommendations and item.recommendations[0].basis == "logging":
        return capture.draw_logging(item.recommendations, profile, decision_id, on.top_k)
    how = on.how
    continuous = (
        exploring.continuous_of(policy, on.constraints, row, on.objective) if how.full else None
    )
    return capture.explore(
        item.recommendations,
        how,
        profile,
        decision_id,
        on.top_k,
        continuous=continuous,
        allowance=on.ledger.allowance(),
    )


def ask_k(model: LoadedModel, top_k: int, how: Exploration) -> int:
    """How many recommendations to ask the policy for: every option of a logging policy (one
    per style, so the served draw can reach each), else :func:`capture.ask_k`."""
    n_styles = len(model.policy.spec.styles)
    if model.policy.mode == "logging":
        return max(top_k, n_styles)
    return capture.ask_k(top_k, how, n_styles)


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
    request: Request,
) -> RecommendationResponse:
    """Rank engagement styles with posting mix and cadence for one business profile, and explain the first choice."""
    refuse_if_unrecordable(request.app.state.decisions, metrics)
    rows, objective, constraints = scoring_inputs(model, [body.profile], ["profile"], body)
    how = exploration_of(body, settings)
    top_k = body.top_k or settings.default_top_k
    ask = ask_k(model, top_k, how)
    question = Question(model, ask, objective, constraints, body.explain)
    item: BatchItem = (await batcher.submit(question.key(), rows, question))[0]
    on = Serving(
        model,
        how,
        top_k,
        objective,
        constraints,
        request.app.state.decisions,
        metrics,
        request.app.state.exploration,
    )
    item = serve(item, rows[0], on)
    await recorded(request.app.state.decisions)
    metrics.profiles.inc()
    return RecommendationResponse(**dict(item), model=ModelRef.model_validate(model.ref()))


@router.post(
    "/v1/recommendations/batch",
    response_model=BatchRecommendationResponse,
    responses=SCORING_ERRORS,
    tags=["recommendations"],
)
def recommend_batch(
    body: BatchRecommendationRequest,
    model: Model,
    settings: Settings,
    metrics: Metrics,
    request: Request,
) -> BatchRecommendationResponse:
    """Recommend for several profiles at once with one objective and one set of constraints."""
    refuse_if_unrecordable(request.app.state.decisions, metrics)
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
    how = exploration_of(body, settings)
    top_k = body.top_k or settings.default_top_k
    ask = ask_k(model, top_k, how)
    question = Question(model, ask, objective, constraints, body.explain)
    writer = request.app.state.decisions
    on = Serving(
        model, how, top_k, objective, constraints, writer, metrics, request.app.state.exploration
    )
    answers = [
        serve(item, row, on) for item, row in zip(answer_rows(rows, question), rows, strict=True)
    ]
    if writer is not None:  # this route runs on a worker thread: wait there (see `recorded`)
        try:
            writer.durable().result(DURABLE_WAIT_S)
        except FutureTimeout:
            log.warning("decision spool slower than %.1f s: answering anyway", DURABLE_WAIT_S)
    metrics.profiles.inc(len(answers))
    return BatchRecommendationResponse(results=answers, model=ModelRef.model_validate(model.ref()))
