"""The recommendation responses: the policy's own answer types plus what serving knows.

:class:`BatchItem` is an :class:`~engage.policy.results.Answer` and
:class:`ServedRecommendation` a :class:`~engage.policy.results.Recommendation`, each adding only
the decision id and how the served action was drawn, so every field of the policy's answer
reaches the response.
"""

from __future__ import annotations

from pydantic import ConfigDict, Field

from engage.policy.results import Answer, Recommendation
from engage.serving.examples import EXAMPLE_ITEM, EXAMPLE_MODEL
from engage.serving.schemas.base import _Closed


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
