"""Request and response models of the HTTP API (``<Thing><Role>``), all closed to extra fields.

The profile's fields depend on the loaded model's campaign spec, so the static request models
carry the profile (and the objective and constraints) as bounded mappings; the route checks
them against models derived from the spec at load time (:mod:`engage.serving.contract`). The static
models exist so OpenAPI documents the whole body; the served OpenAPI replaces the profile's
schema with the loaded model's.

The answers are the policy's own types (:mod:`engage.policy.results`, pydantic models with
their field descriptions): :class:`BatchItem` is an :class:`~engage.policy.results.Answer`
and :class:`ServedRecommendation` a :class:`~engage.policy.results.Recommendation`, each
adding only what serving knows (the decision id, the exploration probability), so every field
of the policy's answer reaches the response.

By part: :mod:`.requests` (recommendation and reload requests), :mod:`.answers`
(recommendation responses), :mod:`.outcomes` (posted outcomes), :mod:`.service` (model info,
schema, health, errors), :mod:`.base` (what they share).
"""

from __future__ import annotations

from engage.serving.schemas.answers import (
    BatchItem,
    BatchRecommendationResponse,
    ModelRef,
    RecommendationResponse,
    ServedRecommendation,
)
from engage.serving.schemas.base import (
    MAX_CONSTRAINT_KEYS,
    MAX_OBJECTIVE_KEYS,
    MAX_PROFILE_FIELDS,
)
from engage.serving.schemas.outcomes import (
    OBSERVED_AT_PATTERN,
    OutcomesRequest,
    OutcomesResponse,
)
from engage.serving.schemas.requests import (
    BatchRecommendationRequest,
    ExplorationOption,
    RecommendationRequest,
    ReloadRequest,
)
from engage.serving.schemas.service import (
    ConstraintInfo,
    DecisionInfo,
    ErrorBody,
    ErrorDetail,
    ErrorResponse,
    HealthResponse,
    ModelInfo,
    OutcomeInfo,
    ProfileFieldInfo,
    ReloadAttempt,
    ReloadResponse,
    SchemaResponse,
)

__all__ = [
    "MAX_CONSTRAINT_KEYS",
    "MAX_OBJECTIVE_KEYS",
    "MAX_PROFILE_FIELDS",
    "OBSERVED_AT_PATTERN",
    "BatchItem",
    "BatchRecommendationRequest",
    "BatchRecommendationResponse",
    "ConstraintInfo",
    "DecisionInfo",
    "ErrorBody",
    "ErrorDetail",
    "ErrorResponse",
    "ExplorationOption",
    "HealthResponse",
    "ModelInfo",
    "ModelRef",
    "OutcomeInfo",
    "OutcomesRequest",
    "OutcomesResponse",
    "ProfileFieldInfo",
    "RecommendationRequest",
    "RecommendationResponse",
    "ReloadAttempt",
    "ReloadRequest",
    "ReloadResponse",
    "SchemaResponse",
    "ServedRecommendation",
]
