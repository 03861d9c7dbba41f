"""The decision record: one served answer, as the store keeps it.

A record is built on the request path (:mod:`engage.decisions.capture`) and written later by
the background writer; it holds plain JSON-ready values only.
"""

from __future__ import annotations

import json
import secrets
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


def new_decision_id() -> str:
    """An unguessable decision id (a random UUID4: 122 random bits)."""
    return str(uuid.UUID(bytes=secrets.token_bytes(16), version=4))


def utcnow() -> datetime:
    """Now, as the naive UTC time the store keeps."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc(moment: datetime) -> datetime:
    """``moment`` as naive UTC (an aware time is converted; a naive one is taken as UTC)."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


@dataclass(frozen=True)
class DecisionRecord:
    """One served decision.

    Attributes:
        decision_id: the id the response carried.
        decided_at: when it was answered (naive UTC).
        model_name, model_version, run_id, model_uri: the model that answered.
        spec_name, spec_fingerprint: the campaign spec of that model.
        profile: the validated profile, by context column.
        style: the served style.
        posting_mix: the served mix, keyed without the ``mix_`` prefix.
        decisions: the served action's other decisions (cadence, ...).
        probability: the probability with which the served style was drawn.
        density: with full-action exploration, the density at the served mix and numeric
            decisions of the distribution they were drawn from (given the style); None where
            they were not drawn (the policy's own). The served action's generalised propensity
            is ``probability * density``.
        continuous: that distribution's parameters (mix concentration and contraction, the
            numeric decisions' half-widths, the budget's scale); empty where none.
        method: the exploration method (``greedy``, ``epsilon``, ``softmax``), or
            ``logging``: a logging policy's answer, its style drawn from the logging
            distribution (``probability`` that style's, ``density`` None, ``exploration``
            empty).
        exploration: the method's parameters, and ``cost``: the expected objective given up
            by exploring (model-estimated).
        objective: the outcome weights the answer ranked by.
        alternatives: the ranked options the draw chose among (style, score, probability,
            posting mix, decisions), in the policy's order.
        outcome_types: each outcome of the spec and its type (``numeric``/``binary``), so
            outcomes posted later are checked against the spec the decision was made under.
    """

    decision_id: str
    decided_at: datetime
    model_name: str | None
    model_version: str | None
    run_id: str | None
    model_uri: str | None
    spec_name: str
    spec_fingerprint: str
    profile: dict[str, Any]
    style: str
    posting_mix: dict[str, float]
    decisions: dict[str, Any]
    probability: float
    method: str
    exploration: dict[str, float] = field(default_factory=dict)
    objective: dict[str, float] = field(default_factory=dict)
    alternatives: list[dict[str, Any]] = field(default_factory=list)
    outcome_types: dict[str, str] = field(default_factory=dict)
    density: float | None = None
    continuous: dict[str, Any] = field(default_factory=dict)

    def row(self) -> dict[str, Any]:
        """The record as a row of the ``engage_decisions`` table."""
        return {
            "decision_id": self.decision_id,
            "decided_at": self.decided_at,
            "model_name": self.model_name,
            "model_version": self.model_version,
            "run_id": self.run_id,
            "model_uri": self.model_uri,
            "spec_name": self.spec_name,
            "spec_fingerprint": self.spec_fingerprint,
            "style": self.style,
            "probability": self.probability,
            "method": self.method,
            "density": self.density,
            "payload": {
                "profile": self.profile,
                "posting_mix": self.posting_mix,
                "decisions": self.decisions,
                "exploration": self.exploration,
                "objective": self.objective,
                "alternatives": self.alternatives,
                "outcome_types": self.outcome_types,
                "continuous": self.continuous,
            },
        }

    @classmethod
    def from_row(cls, row: Any) -> DecisionRecord:
        """A record read back from an ``engage_decisions`` row (a SQLAlchemy row mapping)."""
        p = row["payload"]
        return cls(
            decision_id=row["decision_id"],
            decided_at=row["decided_at"],
            model_name=row["model_name"],
            model_version=row["model_version"],
            run_id=row["run_id"],
            model_uri=row["model_uri"],
            spec_name=row["spec_name"],
            spec_fingerprint=row["spec_fingerprint"],
            profile=p["profile"],
            style=row["style"],
            posting_mix=p["posting_mix"],
            decisions=p["decisions"],
            probability=row["probability"],
            method=row["method"],
            exploration=p.get("exploration", {}),
            objective=p.get("objective", {}),
            alternatives=p.get("alternatives", []),
            outcome_types=p.get("outcome_types", {}),
            density=row.get("density"),
            continuous=p.get("continuous", {}),
        )

    def to_json(self) -> str:
        """The record as one line of JSON (the spool's format; :meth:`from_json` reads it)."""
        values = asdict(self)
        values["decided_at"] = self.decided_at.isoformat()
        return json.dumps(values, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> DecisionRecord:
        """A record read back from :meth:`to_json`."""
        values = json.loads(text)
        values["decided_at"] = datetime.fromisoformat(values["decided_at"])
        return cls(**values)
