"""``POST /v1/outcomes``: what happened after a served decision, merged into its record.

Protected like the recommendation routes (:func:`~engage.serving.deps.require_api_key`).
Outcomes are checked against the spec the decision was served under, not the model being
served now. A decision still waiting to be written (in the writer's queue or its spool, say
after an outage of the store) is written to the store first, ahead of the backlog, so its
outcome is merged at once; while the store is unavailable the post is answered 503 (retry
later), never 404.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter, Depends, Request

from engage.contract.redaction import redact
from engage.decisions.store import Merged, OutcomeProblem, UnknownDecision
from engage.decisions.writer import DecisionWriter
from engage.serving.deps import KeyedRoute, Metrics, error_responses, require_api_key
from engage.serving.errors import ApiError, clip
from engage.serving.schemas import OutcomesRequest, OutcomesResponse

logger = logging.getLogger("serving")

router = APIRouter(dependencies=[Depends(require_api_key)], route_class=KeyedRoute)

READY_WAIT_S = 2.0  # a store opening at start-up

_ONE_SHAPE = error_responses(422)[422]
_RESPONSES = {
    **error_responses(400, 401, 408, 413, 415, 422, 429, 500),
    404: {**_ONE_SHAPE, "description": "No decision has this id (or recording is off)"},
    409: {**_ONE_SHAPE, "description": "A different value is already recorded for an outcome"},
    503: {**_ONE_SHAPE, "description": "The decision store cannot be reached"},
}


def _unavailable(reason: str) -> ApiError:
    return ApiError(503, "decisions_unavailable", f"the decision store is unavailable: {reason}")


def _merge(writer: DecisionWriter, body: OutcomesRequest) -> Merged:
    """The merge, run on a worker thread (database calls block)."""
    if writer.store is None and not writer.wait_ready(READY_WAIT_S):
        raise _unavailable(clip(writer.last_error or "not opened yet"))
    if not writer.deliver(body.decision_id):
        raise _unavailable(
            "the decision is waiting in the spool for the store; retry shortly: "
            + clip(writer.last_error or "")
        )
    return writer.store.merge_outcomes(body.decision_id, body.outcomes, body.observed_at)


@router.post(
    "/v1/outcomes",
    response_model=OutcomesResponse,
    responses=_RESPONSES,
    tags=["outcomes"],
)
async def post_outcomes(
    body: OutcomesRequest, request: Request, metrics: Metrics
) -> OutcomesResponse:
    """Record outcomes of a served decision; partial posts merge, identical repeats change nothing."""
    writer: DecisionWriter | None = request.app.state.decisions
    if writer is None:
        raise ApiError(
            404, "recording_off", "decisions are not recorded (ENGAGE_DECISIONS_RECORD=false)"
        )
    try:
        merged = await asyncio.to_thread(_merge, writer, body)
    except UnknownDecision as exc:
        metrics.outcomes.labels("refused").inc()
        raise ApiError(
            404,
            "unknown_decision",
            f"no decision with id {clip(exc.decision_id, 80)!r}",
            [{"field": "decision_id", "message": "no such decision"}],
        ) from None
    except OutcomeProblem as exc:
        metrics.outcomes.labels("refused").inc()
        status, code = (
            (409, "outcome_conflict") if exc.kind == "conflict" else (422, "invalid_outcome")
        )
        raise ApiError(
            status,
            code,
            clip(str(exc)),
            [{"field": f, "message": clip(m)} for f, m in exc.details],
        ) from None
    except ApiError:
        raise
    except Exception as exc:  # noqa: BLE001 - a database failure is a 503 that says so
        # The driver's text goes to the log only (redacted): the answer says it in fixed words.
        logger.error("outcome merge failed: %s", clip(redact(exc), 1000))
        raise _unavailable("the database failed (the server log has the detail)") from None
    metrics.outcomes.labels("merged" if merged.added else "repeated").inc()
    return OutcomesResponse(
        decision_id=merged.decision_id,
        outcomes=merged.outcomes,
        added=merged.added,
        missing=merged.missing,
        complete=not merged.missing,
    )
