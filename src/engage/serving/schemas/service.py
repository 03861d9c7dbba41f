"""The service's own answers: the model served and its reloads, the spec's schema, health,
and the one error shape of every route."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from engage.policy.results import PolicyNote
from engage.serving.examples import EXAMPLE_MODEL_INFO
from engage.serving.schemas.answers import ModelRef
from engage.serving.schemas.base import _Closed

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
