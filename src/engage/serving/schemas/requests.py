"""The recommendation requests (one profile, a batch) and the reload request.

The profile, objective and constraints are bounded mappings here; the route checks them
against models derived from the loaded model's spec (:mod:`engage.serving.contract`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field

from engage.serving.examples import (
    EXAMPLE_CONSTRAINTS,
    EXAMPLE_EXPLORATION,
    EXAMPLE_OBJECTIVE,
    EXAMPLE_PROFILE,
)
from engage.serving.schemas.base import (
    MAX_CONSTRAINT_KEYS,
    MAX_OBJECTIVE_KEYS,
    MAX_PROFILE_FIELDS,
    _Request,
)
from engage.serving.settings import MAX_TOP_K


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
