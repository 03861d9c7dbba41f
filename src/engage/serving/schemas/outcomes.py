"""The outcomes a client posts for a served decision, and the answer."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from engage.serving.examples import EXAMPLE_OUTCOMES_REQUEST, EXAMPLE_OUTCOMES_RESPONSE
from engage.serving.schemas.base import MAX_OBJECTIVE_KEYS, _Closed, _Request

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
