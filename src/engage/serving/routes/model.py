"""``GET /v1/model`` and ``GET /v1/schema``: what is served and what it expects."""

from __future__ import annotations

import math
from typing import Any

from fastapi import APIRouter, Depends

from engage.serving.deps import KeyedRoute, Model, Settings, Store, error_responses, require_api_key
from engage.serving.schemas import ModelInfo, SchemaResponse
from engage.serving.settings import MAX_TOP_K

# Keyed like the recommendation routes: /v1/model shows metrics, run ids and reload errors.
router = APIRouter(dependencies=[Depends(require_api_key)], route_class=KeyedRoute)


@router.get(
    "/v1/model", response_model=ModelInfo, responses=error_responses(401, 429, 503), tags=["model"]
)
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
        "policy": model.policy.policy_note(),
        "decision": meta.get("decision"),
        "metrics": metrics,
        "following_alias": store.following_alias,
        "last_reload": store.last_reload,
    }


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


@router.get(
    "/v1/schema",
    response_model=SchemaResponse,
    responses=error_responses(401, 429, 503),
    tags=["model"],
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
