"""Export recorded decisions and their outcomes as a campaign log of the model's spec.

One row per decision: the spec's id and timestamp columns (the decision id and time), the
validated profile, the served style, mix and other decisions, the outcomes received (empty
where none arrived yet) and the spec's propensity column filled with the probability the
style was served with. The spec is written beside the log with that propensity column
declared, so ``engage validate`` and ``engage train`` read the pair unchanged, and training
values policies with the recorded (known) propensities.

Decisions served with full-action exploration also carry how their mix and numeric decisions
were drawn, in passthrough columns named after the propensity column ``P``
(:func:`density_columns`): ``P_density`` (the draw's density at the served action; empty where
the action was the policy's own), ``P_mix_concentration`` and ``P_half_width_<decision>``.
:func:`recorded_actions` reads them back for the full-action estimators
(:mod:`engage.ope.continuous`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from engage.contract.declarations import ISO8601
from engage.contract.limits import InputLimitError, InputLimits
from engage.contract.messages import counted
from engage.contract.prescan import MAX_LINE_BYTES
from engage.contract.spec import CampaignSpec, NumericColumn
from engage.decisions.records import DecisionRecord
from engage.decisions.store import DecisionStore

DEFAULT_PROPENSITY_COLUMN = "logged_propensity"


@dataclass(frozen=True)
class Export:
    """What an export wrote, and what it left out and why."""

    log: Path
    spec: Path
    rows: int
    complete: int
    incomplete_skipped: int
    other_specs: int
    propensity_column: str

    def summary(self) -> str:
        """The export in one or two lines."""
        text = (
            f"wrote {counted(self.rows, 'decision')} to {self.log} ({self.complete:,} with every outcome), "
            f"spec {self.spec} (propensity column {self.propensity_column!r}: recorded probabilities)"
        )
        if self.incomplete_skipped:
            text += f"\nleft out {counted(self.incomplete_skipped, 'decision')} still missing outcomes (--complete-only)"
        if self.other_specs:
            text += f"\nleft out {counted(self.other_specs, 'decision')} made under other specs"
        return text


def propensity_column(spec: CampaignSpec) -> str:
    """The spec's propensity column, or a new one's name when it declares none (or a constant)."""
    if spec.propensity_column:
        return spec.propensity_column
    taken = set(spec.declared_columns) | set(spec.passthrough)
    name = DEFAULT_PROPENSITY_COLUMN
    while name in taken:
        name = f"engage_{name}"
    return name


def _numeric(spec: CampaignSpec) -> list[NumericColumn]:
    return [c for c in spec.extra_decisions if isinstance(c, NumericColumn)]


def density_columns(spec: CampaignSpec) -> dict[str, str]:
    """The exploration columns of an export: ``density``, ``mix_concentration`` and one
    ``half_width:<decision>`` per numeric decision, each named after the propensity column."""
    base = propensity_column(spec)
    names = {"density": f"{base}_density", "mix_concentration": f"{base}_mix_concentration"}
    for col in _numeric(spec):
        names[f"half_width:{col.name}"] = f"{base}_half_width_{col.name}"
    return names


def served_by_column(spec: CampaignSpec) -> str:
    """The export's column naming the model version that served each decision
    (``<model name>/<version>``): the rows a champion served are rows it never trained on, so
    training compares a new version with the champion there (:mod:`engage.training.promotion`)."""
    return f"{propensity_column(spec)}_served_by"


def carried_columns(spec: CampaignSpec) -> list[str]:
    """The columns an export carries besides the spec's own: the exploration columns
    (:func:`density_columns`) and who served each decision (:func:`served_by_column`)."""
    return [*density_columns(spec).values(), served_by_column(spec)]


def export_spec(spec: CampaignSpec) -> CampaignSpec:
    """``spec`` with its propensity declared as the recorded-probability column, and its
    timestamp's declared format (if any) ``ISO8601``: the export writes decision times as
    datetimes (ISO 8601 text in a CSV), not in the format the original log was written in."""
    raw = spec.model_dump(mode="json")
    if raw.get("timestamp_format") is not None:
        raw["timestamp_format"] = ISO8601
    extra = [c for c in carried_columns(spec) if c not in raw["passthrough"]]
    return CampaignSpec.model_validate(
        {**raw, "propensity": propensity_column(spec), "passthrough": raw["passthrough"] + extra}
    )


def to_frame(
    spec: CampaignSpec, joined: list[tuple[DecisionRecord, dict[str, float]]]
) -> pd.DataFrame:
    """The campaign log of ``joined`` decisions, in the spec's columns."""
    out = export_spec(spec)
    served_by = served_by_column(spec)
    rows: list[dict[str, Any]] = []
    for rec, outcomes in joined:
        row: dict[str, Any] = {}
        if spec.id:
            row[spec.id] = rec.decision_id
        if spec.timestamp:
            row[spec.timestamp] = rec.decided_at
        row.update({name: rec.profile.get(name) for name in spec.context_names})
        row[spec.style.name] = rec.style
        for col in spec.mix_columns:
            row[col] = rec.posting_mix.get(col.removeprefix("mix_"))
        for decision in spec.extra_decisions:
            row[decision.name] = rec.decisions.get(decision.name)
        for name in spec.outcome_names:
            row[name] = outcomes.get(name, np.nan)
        row[str(out.propensity_column)] = rec.probability
        row.update(_exploration_row(spec, rec))
        registered = rec.model_name and rec.model_version  # None: served from a run's URI
        row[served_by] = f"{rec.model_name}/{rec.model_version}" if registered else None
        rows.append(row)
    frame = pd.DataFrame(rows, columns=out.declared_columns + carried_columns(spec))
    if spec.timestamp:
        frame[spec.timestamp] = pd.to_datetime(frame[spec.timestamp])
    return frame


def _exploration_row(spec: CampaignSpec, rec: DecisionRecord) -> dict[str, float]:
    """A decision's exploration columns (NaN where its continuous decisions were not drawn)."""
    names = density_columns(spec)
    p = rec.continuous if rec.density is not None else {}
    half = dict(zip([c.name for c in _numeric(spec)], p.get("half_width", []), strict=False))
    out = {
        names["density"]: np.nan if rec.density is None else float(rec.density),
        names["mix_concentration"]: float(p.get("mix_concentration", np.nan)),
    }
    for col in _numeric(spec):
        out[names[f"half_width:{col.name}"]] = float(half.get(col.name, np.nan))
    return out


def recorded_actions(spec: CampaignSpec, frame: pd.DataFrame) -> tuple[Any, int]:
    """The full-action estimators' :class:`~engage.ope.LoggedActions` of an exported log
    (validated rows), and how many rows carry no recorded density.

    Rows without a density (their mix and numeric decisions were the policy's own) are kept
    with NaN: the kernel estimators weigh them 0 (:class:`~engage.ope.LoggedActions`).
    Returns ``(None, n)`` when no row has one, or the log has no exploration columns.
    """
    from engage.ope import LoggedActions

    names = density_columns(spec)
    if names["density"] not in frame.columns:
        return None, len(frame)
    density = np.array(pd.to_numeric(frame[names["density"]], errors="coerce"), dtype=float)
    density[density <= 0] = np.nan
    missing = int(np.isnan(density).sum())
    if missing == len(frame):
        return None, missing
    numeric = _numeric(spec)
    return LoggedActions(
        mix=frame[spec.mix_columns].to_numpy(float),
        numeric=frame[[c.name for c in numeric]].to_numpy(float),
        density=density,
        mix_concentration=pd.to_numeric(frame[names["mix_concentration"]]).to_numpy(float),
        half_width=frame[[names[f"half_width:{c.name}"] for c in numeric]].to_numpy(float),
        low=np.array([-np.inf if c.min is None else c.min for c in numeric], dtype=float),
        high=np.array([np.inf if c.max is None else c.max for c in numeric], dtype=float),
    ), missing


def spec_path(log: Path) -> Path:
    """Where the spec of an exported log goes: ``F.parquet`` -> ``F.spec.yaml``."""
    return log.with_name(log.stem + ".spec.yaml")


def export_decisions(
    store: DecisionStore,
    spec: CampaignSpec,
    out: str | Path,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    complete_only: bool = False,
    max_rows: int = InputLimits.max_rows,
) -> Export:
    """Write the decisions of ``spec`` made in ``[since, until)`` as a campaign log and its spec.

    The window is measured first, in the database: more than ``max_rows`` decisions, or a
    decision whose JSON payload is longer than
    :data:`~engage.contract.prescan.MAX_LINE_BYTES`, is refused before any is read (every
    decision is held in memory while the log is built).

    Raises:
        InputLimitError: the window breaks a limit (nothing was written).
        ValueError: no decision to export (naming the window and what was left out).
    """
    out = Path(out)
    count, longest = store.window_size(since, until)
    window = f"between {since or 'the start'} and {until or 'now'}"
    if count > max_rows:
        raise InputLimitError(
            f"{count:,} decisions {window}, more than {max_rows:,} (--max-rows); nothing was "
            "written: export a shorter window (--since, --until), or raise the limit"
        )
    if longest > MAX_LINE_BYTES:
        raise InputLimitError(
            f"a decision {window} has a payload of {longest:,} characters, more than "
            f"{MAX_LINE_BYTES:,} (engage.contract.prescan.MAX_LINE_BYTES); nothing was written: "
            "the store holds a record the service never writes"
        )
    joined = store.joined(since, until)
    mine = [(r, o) for r, o in joined if r.spec_name == spec.name]
    other = len(joined) - len(mine)
    complete = [(r, o) for r, o in mine if all(n in o for n in spec.outcome_names)]
    chosen = complete if complete_only else mine
    if not chosen:
        raise ValueError(
            f"no decision of spec {spec.name!r} to export between {since or 'the start'} and "
            f"{until or 'now'}: {len(joined):,} in the window, {other:,} of other specs, "
            f"{len(mine) - len(complete):,} missing outcomes"
        )
    frame = to_frame(spec, chosen)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        frame.to_csv(out, index=False)
    else:
        frame.to_parquet(out, index=False)
    written_spec = export_spec(spec)
    path = spec_path(out)
    path.write_text(
        f"# exported by `engage decisions export`: {spec.name} with the recorded propensities\n"
        + yaml.safe_dump(written_spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True)
    )
    return Export(
        log=out,
        spec=path,
        rows=len(frame),
        complete=len(complete),
        incomplete_skipped=len(mine) - len(complete) if complete_only else 0,
        other_specs=other,
        propensity_column=str(written_spec.propensity_column),
    )
