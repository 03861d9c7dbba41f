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
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from engage.policy.results import Answer, PolicyNote, Recommendation
from engage.serving.examples import (
    EXAMPLE_CONSTRAINTS,
    EXAMPLE_EXPLORATION,
    EXAMPLE_ITEM,
    EXAMPLE_MODEL,
    EXAMPLE_MODEL_INFO,
    EXAMPLE_OBJECTIVE,
    EXAMPLE_OUTCOMES_REQUEST,
    EXAMPLE_OUTCOMES_RESPONSE,
    EXAMPLE_PROFILE,
)
from engage.serving.settings import MAX_TOP_K

MAX_PROFILE_FIELDS = 200
MAX_CONSTRAINT_KEYS = 100
MAX_OBJECTIVE_KEYS = 50


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---------------------------------------------------------------------------- requests

# Requests are strict: JSON types are taken as sent, never coerced ("top_k": "3" and
# "explain": 0 are refused, as "employees": "12" is), so OpenAPI and the server agree.
_REQUEST = ConfigDict(extra="forbid", strict=True)


class _Request(BaseModel):
    model_config = _REQUEST


def _integral(value: Any) -> Any:
    """``3.0`` as ``3``: JSON Schema's ``integer`` admits integral numbers written as floats."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


class ExplorationOption(_Request):
    """How the served first recommendation is drawn among the allowed styles."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [EXAMPLE_EXPLORATION]}
    )

    method: Literal["greedy", "epsilon", "softmax"] = Field(
        description="greedy: the best style (probability 1); epsilon: a share epsilon of draws "
        "uniform over the allowed styles; softmax: over the scores at a temperature"
    )
    epsilon: float | None = Field(
        default=None, ge=0, le=1, description="epsilon (default ENGAGE_SERVE_EXPLORATION_EPSILON)"
    )
    temperature: float | None = Field(
        default=None,
        gt=0,
        le=1e6,
        description="softmax temperature in score units (default ENGAGE_SERVE_EXPLORATION_TEMPERATURE)",
    )
    full: bool | None = Field(
        default=None,
        description="also draw the posting mix and numeric decisions around the policy's, with "
        "a recorded density (default ENGAGE_SERVE_EXPLORATION_FULL)",
    )
    budget: float | None = Field(
        default=None,
        ge=0,
        le=1e12,
        description="the most expected objective (model-estimated) this decision may give up by "
        "exploring (default ENGAGE_SERVE_EXPLORATION_BUDGET)",
    )


class _Scoring(_Request):
    top_k: Annotated[int | None, BeforeValidator(_integral)] = Field(
        default=None,
        ge=1,
        le=MAX_TOP_K,
        description="alternatives to return (default from settings)",
    )
    objective: dict[str, float] | None = Field(
        default=None,
        max_length=MAX_OBJECTIVE_KEYS,
        description=(
            "weights by outcome name (>= 0, at least one > 0); they replace the model's "
            "objective whole, so unnamed outcomes weigh 0; the served document lists the "
            "outcome names (schema Objective)"
        ),
    )
    constraints: dict[str, Any] | None = Field(
        default=None,
        max_length=MAX_CONSTRAINT_KEYS,
        description=(
            "limits on the actions to consider; the served document lists the allowed keys "
            "(schema ConstraintSet), as does GET /v1/schema"
        ),
    )
    explain: bool = Field(
        default=True,
        description="explain the first choice against the runner-up (about half the scoring time)",
    )
    exploration: ExplorationOption | None = Field(
        default=None,
        description=(
            "draw the served first recommendation among the allowed styles (default: "
            "ENGAGE_SERVE_EXPLORATION, greedy unless set); never outside the support floor or "
            "the constraints. When it serves other than the best, the explanation is omitted"
        ),
    )


class RecommendationRequest(_Scoring):
    """One business profile to recommend for."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "profile": EXAMPLE_PROFILE,
                    "top_k": 3,
                    "objective": EXAMPLE_OBJECTIVE,
                    "constraints": EXAMPLE_CONSTRAINTS,
                }
            ]
        },
    )

    profile: dict[str, Any] = Field(
        max_length=MAX_PROFILE_FIELDS,
        description="the business profile: every context column of the model's spec (GET /v1/schema)",
    )


class BatchRecommendationRequest(_Scoring):
    """Several profiles scored with the same objective and constraints."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {
                    "profiles": [
                        EXAMPLE_PROFILE,
                        {**EXAMPLE_PROFILE, "industry": "software", "market": "b2b"},
                    ],
                    "top_k": 2,
                }
            ]
        },
    )

    profiles: list[dict[str, Any]] = Field(
        min_length=1, description="business profiles (at most ENGAGE_SERVE_MAX_BATCH of them)"
    )


class ReloadRequest(_Request):
    """Which model to load; the one being served when omitted."""

    model_uri: str | None = Field(default=None, min_length=1, max_length=2_000)


# ---------------------------------------------------------------------------- responses


class ServedRecommendation(Recommendation):
    """A recommendation as served: the policy's (every field of it) and how it was drawn."""

    probability: float | None = Field(
        default=None,
        description="the probability with which the served (first) recommendation's style was "
        "drawn (1 without exploration); null on the alternatives",
    )
    density: float | None = Field(
        default=None,
        description="with full-action exploration, the density at the served mix and numeric "
        "decisions of the distribution they were drawn from around the policy's (given the "
        "style); null where they are the policy's own. The predicted outcomes are those of the "
        "policy's action the draw was centred on",
    )


class ModelRef(_Closed):
    name: str | None
    version: str | None
    run_id: str | None
    uri: str


class BatchItem(Answer):
    """The policy's answer for one profile, as served (every field of :class:`Answer`)."""

    decision_id: str | None = Field(
        default=None,
        description="id of this profile's decision; post its outcomes to POST /v1/outcomes",
    )
    recommendations: tuple[ServedRecommendation, ...] = Field(
        description="ranked actions, the served one first"
    )


class RecommendationResponse(BatchItem):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        json_schema_extra={"examples": [{**EXAMPLE_ITEM, "model": EXAMPLE_MODEL}]},
    )

    model: ModelRef = Field(description="the model that answered")


class BatchRecommendationResponse(_Closed):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"results": [EXAMPLE_ITEM], "model": EXAMPLE_MODEL}]},
    )

    results: list[BatchItem] = Field(description="one per profile, in request order")
    model: ModelRef = Field(description="the model that answered")


#: RFC 3339 date-times of the years the decision store takes (1970-2999), as JSON Schema says
#: it: a year outside them (year 1 overflowed the conversion to UTC) is refused with a 422.
OBSERVED_AT_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-[0-9]{2}-[0-9]{2}[Tt]"
_OBSERVED_AT = re.compile(OBSERVED_AT_PATTERN)


def _observed_at_schema(schema: dict[str, Any]) -> None:
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            branch["pattern"] = OBSERVED_AT_PATTERN


class OutcomesRequest(_Request):
    """Outcomes of one served decision; several partial posts merge."""

    model_config = ConfigDict(
        extra="forbid", strict=True, json_schema_extra={"examples": [EXAMPLE_OUTCOMES_REQUEST]}
    )

    decision_id: str = Field(min_length=1, max_length=64, description="from the recommendation")
    # checked per outcome against the decision's spec (the error names outcomes.<name>)
    outcomes: dict[str, Any] = Field(
        min_length=1,
        max_length=MAX_OBJECTIVE_KEYS,
        json_schema_extra={"additionalProperties": {"type": ["number", "boolean"]}},
        description="values by outcome name (GET /v1/schema lists them); numeric outcomes take "
        "finite numbers, binary ones true/false or 0/1; each outcome is set once",
    )
    observed_at: datetime | None = Field(
        default=None,
        strict=False,  # a string is parsed (strict mode would take a datetime object only)
        json_schema_extra=_observed_at_schema,
        description="when the outcomes were observed: an RFC 3339 date-time (a time without an "
        "offset is taken as UTC) in the years 1970 to 2999",
    )

    @field_validator("observed_at", mode="before")
    @classmethod
    def _observed_at_as_documented(cls, value: Any) -> Any:
        # pydantic alone also takes Unix times (1700000000, "1700000000") and years 1 to 9999
        if value is not None and not (isinstance(value, str) and _OBSERVED_AT.match(value)):
            raise ValueError(
                "must be an RFC 3339 date-time such as 2026-12-28T09:00:00Z, in the years 1970 "
                "to 2999"
            )
        return value


class OutcomesResponse(_Closed):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [EXAMPLE_OUTCOMES_RESPONSE]}
    )

    decision_id: str
    outcomes: dict[str, float] = Field(description="every outcome recorded for the decision")
    added: list[str] = Field(description="outcomes this post recorded (empty: a repeat)")
    missing: list[str] = Field(description="outcomes of the spec not yet recorded")
    complete: bool = Field(description="whether every outcome is recorded")


_FOLLOWING = (
    "whether the served URI is an alias that is polled for new versions; false after a reload "
    "to a pinned version or a directory, until a reload without model_uri returns to the "
    "configured URI"
)


class ReloadAttempt(_Closed):
    at: str
    ok: bool
    trigger: Literal["startup", "poll", "admin"]
    uri: str
    version: str | None = None
    error: str | None = None


class ModelInfo(_Closed):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE_MODEL_INFO]})

    name: str | None
    version: str | None
    run_id: str | None
    uri: str
    loaded_at: str
    trained_at: str | None
    spec_name: str
    spec_fingerprint: str
    policy: PolicyNote
    decision: str | None = Field(description="why training shipped this policy mode")
    metrics: dict[str, float] = Field(description="training metrics, including ope.* and regret.*")
    following_alias: bool = Field(description=_FOLLOWING)
    last_reload: ReloadAttempt | None


class ReloadResponse(_Closed):
    reloaded: bool
    model: ModelRef
    following_alias: bool = Field(description=_FOLLOWING)
    last_reload: ReloadAttempt


class ProfileFieldInfo(_Closed):
    name: str
    type: Literal["numeric", "categorical"]
    min: float | None = None
    max: float | None = None
    values: list[str] | None = None
    description: str
    required: bool = True


class DecisionInfo(_Closed):
    name: str
    kind: Literal["style", "mix_share", "numeric", "categorical"]
    min: float | None = None
    max: float | None = None
    values: list[str] | None = None
    description: str


class OutcomeInfo(_Closed):
    name: str
    type: Literal["numeric", "binary"]
    direction: Literal["maximize", "minimize"]
    default_weight: float
    description: str


class ConstraintInfo(_Closed):
    key: str
    type: str
    description: str


class SchemaResponse(_Closed):
    spec_name: str
    profile: list[ProfileFieldInfo]
    decisions: list[DecisionInfo]
    outcomes: list[OutcomeInfo]
    constraints: list[ConstraintInfo]
    limits: dict[str, int]


class HealthResponse(_Closed):
    status: Literal["ok", "ready"]
    model_version: str | None = None


# ---------------------------------------------------------------------------- errors


class ErrorDetail(_Closed):
    field: str | None = Field(
        default=None, description="where the problem is, e.g. profile.followers"
    )
    message: str


class ErrorBody(_Closed):
    code: str = Field(description="stable machine-readable code, e.g. invalid_request")
    message: str
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(_Closed):
    """The one error shape of every route."""

    error: ErrorBody
