"""The campaign-log contract: a YAML spec that declares what each column of a log means.

A data team points the product at *their* log by writing one of these files; no code
changes. The spec of the simulated world ships with the package (``specs/simulated.yaml``)
and is the default everywhere a spec is optional.

Column roles:

* ``id`` / ``timestamp`` (optional): a unique row key; a time used for time-ordered splits.
  The timestamp's format may be declared: ``timestamp: {column: posted, format: "%d/%m/%Y"}``
  (a ``strptime`` format, or ``ISO8601``); it is stored as ``timestamp_format``. Without one,
  dates written day/month/year or month/day/year are refused (see
  :mod:`engage.contract.checks.timestamps`).
* ``context``: the business profile, numeric or categorical columns.
* ``decision.style``: the one categorical engagement-style column (required).
* ``decision.mix`` (optional): posting-mix share columns, non-negative, summing to 1.
* ``decision.extra`` (optional): other numeric (cadence) or categorical (platform) decisions.
* ``outcomes``: numeric or binary results, each with a direction, a default weight, optional
  ``min``/``max`` and an ``outliers`` policy.
* ``propensity`` (optional): the logged probability of the chosen style: a column name, or
  one probability for every row (``propensity: 0.3333`` or ``{value: 0.3333}``, a randomised
  experiment).
* ``passthrough`` (optional): columns that may be present and are carried but never used.

Sanity rules of the whole log: ``min_rows_per_style`` (``warn`` / ``fatal`` thresholds of
clean rows per style), ``outlier_iqr_multiple`` (the *k* of the outlier fence, see
:mod:`engage.contract.checks.outliers`) and ``max_quarantine_fraction``.

Wording (optional; answers and explanations only, never the models): ``unit`` of a numeric
column or an outcome (``"days"``, ``"conversions per 1,000 followers"``), ``labels`` of a
categorical column's codes (``{1: action, 2: product}``), and ``row_noun`` / ``subject_noun``,
what one row of the log is and who acts (``campaign`` / ``business`` by default; a log of one
brand's posts says ``post`` / ``brand``).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from engage.contract.declarations import (
    CategoricalColumn,
    Column,
    ConstantPropensity,
    NumericColumn,
    Outcome,
    OutlierPolicy,
    Propensity,
    Strict,
    timestamp_format,
)

if TYPE_CHECKING:
    import pandas as pd

SPEC_FORMAT_VERSION = 1
DEFAULT_SPEC_NAME = "simulated.yaml"


__all__ = [
    "CampaignSpec",
    "CategoricalColumn",
    "Column",
    "ConstantPropensity",
    "DecisionSpec",
    "ExtraColumns",
    "MixSpec",
    "NumericColumn",
    "Outcome",
    "OutlierPolicy",
    "ReadOptions",
    "SpecError",
    "StyleRows",
    "default_spec_path",
    "load_spec",
]


class SpecError(ValueError):
    """The spec file itself is unreadable or inconsistent."""


class MixSpec(Strict):
    """Posting-mix share columns: each in [0, 1], together summing to 1 within ``tolerance``."""

    columns: list[str] = Field(min_length=2)
    tolerance: float = Field(default=0.01, gt=0, lt=0.5)
    description: str = ""


class DecisionSpec(Strict):
    """What the marketer chose: the style (required), the mix and other decisions (optional)."""

    style: CategoricalColumn
    mix: MixSpec | None = None
    extra: list[Column] = Field(default_factory=list)


class ExtraColumns(StrEnum):
    """What to do with columns that the spec does not declare."""

    error = "error"
    ignore = "ignore"


class ReadOptions(Strict):
    """How to read a CSV log (Parquet needs none)."""

    sep: str = ","


class StyleRows(Strict):
    """Clean rows each declared style needs: below ``fatal`` the log is rejected, below
    ``warn`` a warning says the style's effect and its off-policy values rest on few rows."""

    warn: int = Field(default=30, ge=0)
    fatal: int = Field(default=5, ge=0)

    @model_validator(mode="after")
    def _fatal_below_warn(self) -> StyleRows:
        if self.fatal > self.warn:
            raise ValueError(f"min_rows_per_style: fatal {self.fatal} > warn {self.warn}")
        return self


class CampaignSpec(Strict):
    """A whole campaign-log contract."""

    name: str
    description: str = ""
    format_version: int = SPEC_FORMAT_VERSION
    id: str | None = None
    timestamp: str | None = None
    timestamp_format: str | None = None
    context: list[Column] = Field(min_length=1)
    decision: DecisionSpec
    outcomes: list[Outcome] = Field(min_length=1)
    propensity: Propensity | None = None
    passthrough: list[str] = Field(default_factory=list)
    extra_columns: ExtraColumns = ExtraColumns.error
    read: ReadOptions = Field(default_factory=ReadOptions)
    max_quarantine_fraction: float = Field(default=0.5, gt=0, le=1)
    min_rows_per_style: StyleRows = Field(default_factory=StyleRows)
    outlier_iqr_multiple: float = Field(default=20.0, gt=0)
    # What one row of the log is and who acts, in the words explanations use: a log of one
    # brand's posts reads "post" / "brand", not "campaign" / "business" (presentation only).
    row_noun: str = Field(default="campaign", min_length=1, max_length=40)
    subject_noun: str = Field(default="business", min_length=1, max_length=40)
    added_keys: ClassVar[tuple[str, ...]] = (
        "timestamp_format",
        "min_rows_per_style",
        "outlier_iqr_multiple",
        "row_noun",
        "subject_noun",
    )

    @model_validator(mode="before")
    @classmethod
    def _timestamp_mapping(cls, raw: Any) -> Any:
        # `timestamp: {column: posted, format: "%d/%m/%Y"}` is stored as two flat keys.
        if not isinstance(raw, Mapping) or not isinstance(raw.get("timestamp"), Mapping):
            return raw
        declared = dict(raw["timestamp"])
        unknown = sorted(str(k) for k in set(declared) - {"column", "format"})
        if unknown or "column" not in declared:
            raise ValueError(
                "timestamp must be a column name or {column: <name>, format: <format>}"
                + (f"; unknown keys: {unknown}" if unknown else "; column is missing")
            )
        if "timestamp_format" in raw and "format" in declared:
            raise ValueError(
                "give the timestamp's format once: timestamp.format or timestamp_format"
            )
        data = {k: v for k, v in raw.items() if k != "timestamp"}
        data["timestamp"] = declared["column"]
        if "format" in declared:
            data["timestamp_format"] = declared["format"]
        return data

    @field_validator("timestamp_format")
    @classmethod
    def _usable_format(cls, raw: str | None) -> str | None:
        return None if raw is None else timestamp_format(raw)

    @field_validator("propensity", mode="before")
    @classmethod
    def _number_is_constant(cls, raw: Any) -> Any:
        if isinstance(raw, bool):  # YAML `propensity: yes`: neither a column nor a number
            raise ValueError("propensity must be a column name or a probability, not a boolean")
        return {"value": raw} if isinstance(raw, int | float) else raw

    @model_validator(mode="after")
    def _names_unique(self) -> CampaignSpec:
        if self.format_version != SPEC_FORMAT_VERSION:
            raise ValueError(
                f"format_version {self.format_version} is not supported "
                f"(this version reads {SPEC_FORMAT_VERSION})"
            )
        if self.timestamp_format is not None and not self.timestamp:
            raise ValueError("timestamp_format is set but the spec declares no timestamp column")
        names = self.declared_columns + self.passthrough
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"columns declared more than once: {dupes}")
        if not any(o.weight > 0 for o in self.outcomes):
            raise ValueError("at least one outcome needs a weight > 0")
        if isinstance(self.propensity, ConstantPropensity):
            # Every style logged with probability p in every context means p = 1/k; above
            # 1/k the styles' probabilities would sum to more than 1 (1% allows 0.3333 * 3).
            p, k = self.propensity.value, len(self.styles)
            if p * k > 1.01:
                raise ValueError(
                    f"propensity {p} for each of {k} styles sums to {p * k:.3g} > 1; a "
                    f"randomised experiment over {k} styles has propensity {1 / k:.4g}"
                )
        return self

    # ---- derived views -------------------------------------------------------------

    @property
    def style(self) -> CategoricalColumn:
        """The engagement-style column."""
        return self.decision.style

    @property
    def styles(self) -> list[str]:
        """The allowed engagement styles, in code order."""
        return list(self.decision.style.values)

    @property
    def mix_columns(self) -> list[str]:
        """The posting-mix share columns (empty when the spec has no mix)."""
        return list(self.decision.mix.columns) if self.decision.mix else []

    @property
    def extra_decisions(self) -> list[NumericColumn | CategoricalColumn]:
        """Decisions other than style and mix."""
        return list(self.decision.extra)

    @property
    def context_names(self) -> list[str]:
        """Profile column names, in spec order."""
        return [c.name for c in self.context]

    @property
    def decision_names(self) -> list[str]:
        """Decision column names: style, mix shares, then extra decisions."""
        return [self.style.name, *self.mix_columns, *(c.name for c in self.extra_decisions)]

    @property
    def outcome_names(self) -> list[str]:
        """Outcome column names, in spec order."""
        return [o.name for o in self.outcomes]

    @property
    def propensity_column(self) -> str | None:
        """The column of logged propensities, or None (none logged, or a constant one)."""
        return self.propensity if isinstance(self.propensity, str) else None

    def logged_propensity(self, frame: pd.DataFrame) -> np.ndarray | None:
        """The logged probability of each row's style (float64), or None if the spec has none.

        Args:
            frame: Validated rows (the propensity column, if any, is numeric).
        """
        if isinstance(self.propensity, ConstantPropensity):
            return np.full(len(frame), self.propensity.value)
        if self.propensity_column is not None:
            return frame[self.propensity_column].to_numpy(dtype=float)
        return None

    @property
    def declared_columns(self) -> list[str]:
        """Every column the spec gives a role (not counting passthrough)."""
        cols = [c for c in (self.id, self.timestamp, self.propensity_column) if c]
        return cols + self.context_names + self.decision_names + self.outcome_names

    def column(self, name: str) -> NumericColumn | CategoricalColumn:
        """Return the typed declaration of a context or decision column."""
        for col in [*self.context, self.style, *self.extra_decisions]:
            if col.name == name:
                return col
        raise KeyError(name)

    def outcome_weights(self, objective: Mapping[str, float] | None = None) -> dict[str, float]:
        """Signed objective weights per outcome (the direction folded in).

        Without ``objective`` the spec's default weights apply. An ``objective`` replaces them
        whole: the outcomes it names get its magnitudes and every other outcome weighs 0, so
        ``{"conversions": 1}`` ranks by conversions alone.

        Raises:
            SpecError: ``objective`` names an outcome the spec does not have, gives a negative
                weight, or gives every outcome weight 0.
        """
        if not objective:
            return {o.name: o.signed_weight for o in self.outcomes}
        unknown = sorted(set(objective) - set(self.outcome_names))
        if unknown:
            raise SpecError(
                f"unknown outcome(s) in objective: {unknown}; known: {self.outcome_names}"
            )
        negative = sorted(name for name, w in objective.items() if not float(w) >= 0)
        if negative:
            raise SpecError(
                f"objective weights must be >= 0 (the spec's direction says which way is better): {negative}"
            )
        if not any(float(w) > 0 for w in objective.values()):
            raise SpecError("the objective gives every outcome weight 0: nothing to rank by")
        weights = {}
        for o in self.outcomes:
            w = float(objective.get(o.name, 0.0))
            weights[o.name] = w if o.direction == "maximize" else -w
        return weights

    @cached_property
    def fingerprint(self) -> str:
        """A short stable hash of the spec's content, logged with every run."""
        return _short_hash(self.model_dump(mode="json"))

    @cached_property
    def policy_fingerprint(self) -> str:
        """A short stable hash of what makes two policies of this spec comparable: the
        profiles (context), the decisions and the outcomes with their weights. Not where a log
        keeps its ids, times, propensities or carried columns, nor how it is read and checked:
        an export of recorded decisions declares its propensities and carries its exploration
        columns, and a version trained on it is still compared with a champion trained on the
        original log (promotion)."""
        return _short_hash(
            self.model_dump(mode="json", include={"context", "decision", "outcomes"})
        )


def _short_hash(content: dict[str, Any]) -> str:
    """16 hex digits of the SHA-256 of ``content`` as sorted-key JSON."""
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:16]


def tracking_name(spec_name: str) -> str:
    """The default MLflow experiment and registered-model name of a spec: ``engage-<name>``.

    Characters other than letters, digits, ``_``, ``-`` and ``.`` become ``_`` (MLflow model
    names go into URIs such as ``models:/<name>@champion``), so one spec trains, promotes and
    serves its own model and specs never share a champion.
    """
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", spec_name.strip()).strip("_.-")
    return f"engage-{safe or 'spec'}"


def default_spec_path() -> Path:
    """Path of the simulated world's spec shipped with the package."""
    return Path(str(resources.files("engage.contract") / "specs" / DEFAULT_SPEC_NAME))


def load_spec(path: str | Path | None = None) -> CampaignSpec:
    """Read and check a spec file; ``None`` gives the simulated world's spec.

    Raises:
        SpecError: the file is missing, is not YAML, or breaks the spec's rules.
    """
    path = Path(path) if path is not None else default_spec_path()
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError as exc:
        raise SpecError(f"spec file not found: {path}") from exc
    except yaml.YAMLError as exc:
        raise SpecError(f"spec file {path} is not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise SpecError(f"spec file {path} must hold a mapping at the top level")
    try:
        return CampaignSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '<top>'}: {e['msg']}" for e in exc.errors()
        )
        raise SpecError(f"spec file {path} is invalid: {problems}") from exc
