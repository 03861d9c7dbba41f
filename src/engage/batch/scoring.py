"""Score one chunk of profiles: validate each against the model's spec, rank, flatten, write.

The same function runs in the single process and in every Dask task, so both engines give
the same rows. The output columns are derived from the policy's typed answer
(:meth:`~engage.policy.results.Recommendation.to_dict` flattened with ``_``), not listed here,
so a field the policy adds reaches the output without a change to this module.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import ValidationError

from engage.batch.inputs import ROW
from engage.policy.results import Answer
from engage.serving.errors import validation_details
from engage.serving.model import LoadedModel

REASON = "_reason"
INPUT = "_input"
RECOMMENDATIONS = "recommendations"
QUARANTINE = "quarantine"
# Leaves of the answer that are the same for every row of a model (the outcomes' units):
# they go to the manifest once, not into a column of every row.
_CONSTANT_LEAVES = ("unit",)
NO_RECOMMENDATION = "no candidate action is within the log's support for this profile"


@dataclass(frozen=True)
class ChunkCounts:
    """What scoring one chunk did: rows read, profiles scored, rows written, rows quarantined."""

    rows: int
    scored: int
    recommendations: int
    quarantined: int


def flatten(value: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": 1}}`` -> ``{"a_b": 1}`` (leaves named in ``_CONSTANT_LEAVES`` left out)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = f"{prefix}{key}"
        if isinstance(item, dict):  # to_dict gives plain dicts (an ABC check costs 3x)
            out.update(flatten(item, f"{name}_"))
        elif key not in _CONSTANT_LEAVES:
            out[name] = item
    return out


def answer_rows(answer: Answer, ids: Mapping[str, Any], explain: bool) -> list[dict[str, Any]]:
    """One row per recommendation of ``answer`` (rank 1 first), led by the profile's ``ids``.

    With ``explain``, rank 1 carries the explanation's summary and its factors (JSON).
    """
    policy = answer.policy.to_dict()
    explained = answer.explanation.to_dict() if answer.explanation is not None else None
    rows = []
    for rec in answer.recommendations:
        row = dict(ids)
        row.update(flatten(rec.to_dict()))
        row["policy_mode"] = policy["mode"]
        row["policy_fallback"] = policy["fallback"]
        if explain:
            exp = explained if rec.rank == 1 else None
            row["explanation_summary"] = exp["summary"] if exp else None
            row["explanation_factors"] = (
                json.dumps(exp["factors"], sort_keys=True, default=str) if exp else None
            )
        rows.append(row)
    return rows


def _reason(exc: ValidationError) -> str:
    details = validation_details(exc.errors(include_url=False, include_input=False))
    return "; ".join(f"{d['field']}: {d['message']}" for d in details)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # JSON has no NaN; the quarantine keeps what was read
    if hasattr(value, "item"):  # numpy scalars
        return _jsonable(value.item())
    return value


def _input_json(raw: Mapping[str, Any]) -> str:
    return json.dumps({k: _jsonable(v) for k, v in raw.items()}, sort_keys=True, default=str)


def _typed(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """A frame whose column types do not depend on the chunk: a column of text and missing
    values is text even when a chunk has only missing values in it."""
    frame = pd.DataFrame.from_records(rows)
    for name in frame.columns:
        if frame[name].dtype == object and all(
            v is None or isinstance(v, str) for v in frame[name]
        ):
            frame[name] = frame[name].astype("string")
    return frame


def score_chunk(
    model: LoadedModel,
    chunk: pd.DataFrame,
    *,
    top_k: int,
    explain: bool,
    id_column: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Recommendations and quarantined rows of one chunk (read with ``_row``).

    Each profile is checked with the served contract (the API's validation); a refused row
    goes to the quarantine frame with ``_reason`` and its values as JSON (``_input``), as does
    a valid profile the policy has no supported action for.
    """
    contract, policy = model.contract, model.policy
    names = list(model.policy.spec.context_names)
    id_names = [ROW] + ([id_column] if id_column else [])
    good_rows: list[list[Any]] = []
    good_ids: list[dict[str, Any]] = []
    bad: list[dict[str, Any]] = []
    for record in chunk[list(dict.fromkeys(id_names + names))].to_dict("records"):
        ids = {k: record[k] for k in id_names}
        profile = {k: record[k] for k in names}
        try:
            # a Parquet column of numbers may be text: each cell is read on its own
            good_rows.append(contract.profile_row(profile, from_table=True))
            good_ids.append(ids)
        except ValidationError as exc:
            bad.append({**ids, REASON: _reason(exc), INPUT: _input_json(profile)})
    out: list[dict[str, Any]] = []
    if good_rows:
        answers = policy.recommend_context(
            policy.builder.encode_rows(good_rows), top_k=top_k, explain=explain
        )
        for ids, row, answer in zip(good_ids, good_rows, answers, strict=True):
            if not answer.recommendations:
                raw = dict(zip(names, row, strict=True))
                bad.append({**ids, REASON: NO_RECOMMENDATION, INPUT: _input_json(raw)})
                continue
            out += answer_rows(answer, ids, explain)
    return _typed(out), _typed(bad)


def part_name(first_row: int) -> str:
    """The file of the chunk starting at input row ``first_row`` (the same in both engines)."""
    return f"part-{first_row:012d}.parquet"


def write_chunk(
    model: LoadedModel,
    chunk: pd.DataFrame,
    output: str | Path,
    *,
    top_k: int,
    explain: bool,
    id_column: str | None = None,
) -> ChunkCounts:
    """Score ``chunk`` and write its parts under ``output`` (nothing written for an empty part)."""
    recs, bad = score_chunk(model, chunk, top_k=top_k, explain=explain, id_column=id_column)
    if len(chunk):
        name = part_name(int(chunk[ROW].iloc[0]))
        for folder, frame in ((RECOMMENDATIONS, recs), (QUARANTINE, bad)):
            if len(frame):
                target = Path(output) / folder
                target.mkdir(parents=True, exist_ok=True)
                frame.to_parquet(target / name, index=False)
    scored = recs[ROW].nunique() if len(recs) else 0
    return ChunkCounts(len(chunk), int(scored), len(recs), len(bad))


def manifest_units(model: LoadedModel) -> dict[str, str]:
    """Each outcome's unit (left out of the rows), from the spec."""
    return {o.name: getattr(o, "unit", "") or "" for o in model.policy.spec.outcomes}


def sum_counts(counts: Sequence[ChunkCounts]) -> ChunkCounts:
    """The counts of many chunks added up."""
    return ChunkCounts(
        sum(c.rows for c in counts),
        sum(c.scored for c in counts),
        sum(c.recommendations for c in counts),
        sum(c.quarantined for c in counts),
    )
