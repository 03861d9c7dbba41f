"""The HTTP routes. Each validates its input, calls the one model artifact, shapes the answer.

Route docstrings are one sentence: FastAPI turns them into the OpenAPI descriptions.
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError

from engage.policy import results
from engage.policy.policy import ConstraintError, Constraints
from engage.serving.batching import MicroBatcher
from engage.serving.errors import (
    ApiError,
    ModelNotReady,
    from_validation_error,
    invalid,
    validation_details,
)
from engage.serving.metrics import ServingMetrics
from engage.serving.model import LoadedModel, ModelStore
from engage.serving.schemas import (
    BatchItem,
    BatchRecommendationRequest,
    BatchRecommendationResponse,
    ErrorResponse,
    Explanation,
    ExplanationFactor,
    HealthResponse,
    ModelInfo,
    ModelRef,
    OutcomeForecast,
    PolicyInfo,
    Recommendation,
    RecommendationRequest,
    RecommendationResponse,
    ReloadRequest,
    ReloadResponse,
    SchemaResponse,
    SupportInfo,
)
from engage.serving.settings import MAX_TOP_K, ServeSettings

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse, "description": text}
    for status, text in {
        413: "Body or batch over the configured limit",
        422: "Invalid input; `details` names each bad field",
        503: "No model loaded yet",
    }.items()
}

router = APIRouter()


# ---------------------------------------------------------------------- dependencies


async def model_store(request: Request) -> ModelStore:
    """The app's model store."""
    store: ModelStore = request.app.state.models
    return store


async def serve_settings(request: Request) -> ServeSettings:
    """The app's settings."""
    settings: ServeSettings = request.app.state.settings
    return settings


async def serving_metrics(request: Request) -> ServingMetrics:
    """The app's metrics."""
    metrics: ServingMetrics = request.app.state.metrics
    return metrics


async def current_model(store: Annotated[ModelStore, Depends(model_store)]) -> LoadedModel:
    """The model being served, or a 503 that says how to get one."""
    model = store.current
    if model is None:
        error = (store.last_reload or {}).get("error")
        raise ModelNotReady(error)
    return model


async def micro_batcher(request: Request) -> MicroBatcher:
    """The app's micro-batcher of single-profile requests."""
    batcher: MicroBatcher = request.app.state.batcher
    return batcher


Model = Annotated[LoadedModel, Depends(current_model)]
Batcher = Annotated[MicroBatcher, Depends(micro_batcher)]
Settings = Annotated[ServeSettings, Depends(serve_settings)]
Store = Annotated[ModelStore, Depends(model_store)]
Metrics = Annotated[ServingMetrics, Depends(serving_metrics)]

_bearer = HTTPBearer(auto_error=False, description="ENGAGE_SERVE_ADMIN_TOKEN")


async def require_admin(
    settings: Settings,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let the call through only with the configured bearer token."""
    token = settings.admin_token.get_secret_value() if settings.admin_token else ""
    if not token:
        raise ApiError(
            403, "forbidden", "the admin endpoint is disabled: set ENGAGE_SERVE_ADMIN_TOKEN"
        )
    if credentials is None:
        raise ApiError(
            401,
            "unauthorized",
            "send `Authorization: Bearer <ENGAGE_SERVE_ADMIN_TOKEN>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not secrets.compare_digest(credentials.credentials.encode(), token.encode()):
        raise ApiError(403, "forbidden", "wrong admin token")


# ---------------------------------------------------------------------- scoring


def _scoring_inputs(
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
            [{"field": "constraints", "message": str(exc)}],
        ) from exc
    return [_batch_item(answer) for answer in answers]


# The policy's typed answer mapped to the API's response models field by field: the policy may
# carry more (candidate indices, new diagnostics) and a field reaches callers only once the API
# names it here.


def _batch_item(answer: results.Answer) -> BatchItem:
    explanation = answer.explanation
    return BatchItem(
        recommendations=[_recommendation(rec) for rec in answer.recommendations],
        explanation=None if explanation is None else _explanation(explanation),
        policy=_policy_info(answer.policy),
    )


def _recommendation(rec: results.Recommendation) -> Recommendation:
    return Recommendation(
        rank=rec.rank,
        style=rec.style,
        posting_mix=dict(rec.posting_mix),
        decisions=dict(rec.decisions),
        predicted={
            name: OutcomeForecast(mean=f.mean, low=f.low, high=f.high)
            for name, f in rec.predicted.items()
        },
        score=rec.score,
        predicted_objective=rec.predicted_objective,
        support_discount=rec.support_discount,
        lift_vs_typical=rec.lift_vs_typical,
        support=SupportInfo(
            propensity=rec.support.propensity,
            level=rec.support.level,
            within_support=rec.support.within_support,
        ),
    )


def _explanation(explanation: results.Explanation) -> Explanation:
    return Explanation(
        chosen_style=explanation.chosen_style,
        runner_up_style=explanation.runner_up_style,
        score_difference=explanation.score_difference,
        contributions_sum=explanation.contributions_sum,
        factors=[
            ExplanationFactor(
                feature=f.feature,
                value=f.value,
                runner_up_value=f.runner_up_value,
                contribution=f.contribution,
                sentence=f.sentence,
            )
            for f in explanation.factors
        ],
        other_factors=explanation.other_factors,
    )


def _policy_info(note: results.PolicyNote) -> PolicyInfo:
    return PolicyInfo(mode=note.mode, note=note.note)


@router.post(
    "/v1/recommendations",
    response_model=RecommendationResponse,
    responses=ERRORS,
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
    rows, objective, constraints = _scoring_inputs(model, [body.profile], ["profile"], body)
    question = Question(
        model, body.top_k or settings.default_top_k, objective, constraints, body.explain
    )
    item: BatchItem = (await batcher.submit(question.key(), rows, question))[0]
    metrics.profiles.inc()
    return RecommendationResponse(
        recommendations=item.recommendations,
        explanation=item.explanation,
        policy=item.policy,
        model=ModelRef.model_validate(model.ref()),
    )


@router.post(
    "/v1/recommendations/batch",
    response_model=BatchRecommendationResponse,
    responses=ERRORS,
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
    rows, objective, constraints = _scoring_inputs(model, body.profiles, fields, body)
    question = Question(
        model, body.top_k or settings.default_top_k, objective, constraints, body.explain
    )
    answers = answer_rows(rows, question)
    metrics.profiles.inc(len(answers))
    return BatchRecommendationResponse(results=answers, model=ModelRef.model_validate(model.ref()))


# ---------------------------------------------------------------------- model and schema


@router.get("/v1/model", response_model=ModelInfo, responses={503: ERRORS[503]}, tags=["model"])
def model_info(model: Model, store: Store) -> dict[str, Any]:
    """Describe the served model: identity, policy mode, training and off-policy metrics, last reload."""
    meta = model.policy.metadata
    metrics = {k: float(v) for k, v in (meta.get("metrics") or {}).items() if _finite(v)}
    return {
        **model.ref(),
        "loaded_at": model.loaded_at,
        "trained_at": meta.get("trained_at"),
        "spec_name": model.policy.spec.name,
        "spec_fingerprint": model.policy.spec.fingerprint,
        "policy": _policy_info(model.policy.policy_note()),
        "decision": meta.get("decision"),
        "metrics": metrics,
        "last_reload": store.last_reload,
    }


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


@router.get(
    "/v1/schema", response_model=SchemaResponse, responses={503: ERRORS[503]}, tags=["model"]
)
def schema(model: Model, settings: Settings) -> dict[str, Any]:
    """List the profile fields, decisions, outcomes and constraint keys the served model accepts."""
    contract = model.contract
    return {
        "spec_name": model.policy.spec.name,
        "profile": contract.profile_fields(),
        "decisions": contract.decisions(),
        "outcomes": contract.outcomes(),
        "constraints": list(contract.constraint_keys),
        "limits": {
            "max_batch": settings.max_batch,
            "max_body_bytes": settings.max_body_bytes,
            "max_top_k": MAX_TOP_K,
            "default_top_k": settings.default_top_k,
        },
    }


# ---------------------------------------------------------------------- operations


@router.get("/healthz", response_model=HealthResponse, tags=["operations"])
async def healthz() -> dict[str, Any]:
    """Say the process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz", response_model=HealthResponse, responses={503: ERRORS[503]}, tags=["operations"]
)
async def readyz(model: Model) -> dict[str, Any]:
    """Say whether a model is loaded and requests can be served."""
    return {"status": "ready", "model_version": model.version}


@router.get("/metrics", tags=["operations"], response_class=Response)
async def prometheus_metrics(metrics: Metrics) -> Response:
    """Expose request counts, latencies, the served model and reload failures to Prometheus."""
    return Response(metrics.render(), media_type=metrics.content_type)


@router.post(
    "/v1/admin/reload",
    response_model=ReloadResponse,
    responses={
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
        502: {"model": ErrorResponse},
    },
    dependencies=[Depends(require_admin)],
    tags=["operations"],
)
async def reload_model(store: Store, body: ReloadRequest | None = None) -> dict[str, Any]:
    """Load the model at the given URI (default: the served one) now; a failure keeps the old model serving."""
    ok = await store.reload("admin", body.model_uri if body else None)
    attempt = store.last_reload or {}
    if not ok:
        serving = store.current
        still = (
            f"version {serving.version} of {serving.uri} is still serving"
            if serving
            else "no model is serving"
        )
        raise ApiError(
            502,
            "reload_failed",
            f"reload failed; {still}",
            [
                {
                    "field": "model_uri" if body and body.model_uri else None,
                    "message": str(attempt.get("error")),
                }
            ],
        )
    assert store.current is not None
    return {"reloaded": True, "model": store.current.ref(), "last_reload": attempt}
