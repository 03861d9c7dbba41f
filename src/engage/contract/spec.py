"""The campaign-log contract: a YAML spec that declares what each column of a log means.

A data team points the product at *their* log by writing one of these files; no code
changes. The spec of the simulated world ships with the package (``specs/simulated.yaml``)
and is the default everywhere a spec is optional.

Column roles:

* ``id`` / ``timestamp`` (optional): a unique row key; a time used for time-ordered splits.
* ``context``: the business profile, numeric or categorical columns.
* ``decision.style``: the one categorical engagement-style column (required).
* ``decision.mix`` (optional): posting-mix share columns, non-negative, summing to 1.
* ``decision.extra`` (optional): other numeric (cadence) or categorical (platform) decisions.
* ``outcomes``: numeric or binary results, each with a direction and a default weight.
* ``propensity`` (optional): the logged probability of the chosen style.
* ``passthrough`` (optional): columns that may be present and are carried but never used.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from engage.contract.categories import canonical_category

SPEC_FORMAT_VERSION = 1
DEFAULT_SPEC_NAME = "simulated.yaml"


class SpecError(ValueError):
    """The spec file itself is unreadable or inconsistent."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NumericColumn(_Strict):
    """A numeric column with optional inclusive bounds."""

    name: str
    type: Literal["numeric"] = "numeric"
    min: float | None = None
    max: float | None = None
    description: str = ""

    @model_validator(mode="after")
    def _bounds_ordered(self) -> NumericColumn:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"column {self.name!r}: min {self.min} > max {self.max}")
        return self


class CategoricalColumn(_Strict):
    """A categorical column whose allowed values are listed in order (the order is the code).

    ``values`` may be written as strings, numbers or booleans (``[0, 1]``, ``[true, false]``);
    each is stored as its :func:`~engage.contract.categories.canonical_category` label, the
    same label every cell of the column is compared and encoded as.
    """

    name: str
    type: Literal["categorical"] = "categorical"
    values: list[str] = Field(min_length=1)
    description: str = ""

    @field_validator("values", mode="before")
    @classmethod
    def _canonical_values(cls, raw: Any, info: ValidationInfo) -> Any:
        if not isinstance(raw, list | tuple):
            return raw  # not a list: pydantic's own error says so
        name = info.data.get("name", "?")
        labels: list[Any] = []
        for i, value in enumerate(raw):
            if isinstance(value, Mapping | list | tuple | set):
                labels.append(value)  # not a scalar: pydantic names the position and type
                continue
            label = canonical_category(value)
            if label is None:
                raise ValueError(
                    f"column {name!r}: values[{i}] is empty; every value needs a label"
                )
            labels.append(label)
        return labels

    @model_validator(mode="after")
    def _values_unique(self) -> CategoricalColumn:
        if len(set(self.values)) != len(self.values):
            dupes = sorted({v for v in self.values if self.values.count(v) > 1})
            raise ValueError(
                f"column {self.name!r}: values are not unique (compared as labels): {dupes}"
            )
        return self

    @property
    def lookup(self) -> Mapping[str, int]:
        """The code of each allowed label (its position in ``values``), read-only."""
        # Keyed by the values, not cached on the instance: model_copy(update=...) keeps an
        # instance's cached attributes, which would then describe the old values.
        return _label_codes(tuple(self.values))

    def code(self, value: Any) -> int:
        """Return the integer code of a raw cell value (its label's position in ``values``).

        Raises:
            ValueError: the value is missing or its label is not one of ``values``.
        """
        label = canonical_category(value)
        if label is None or label not in self.lookup:
            raise ValueError(f"column {self.name!r}: {value!r} is not one of {self.values}")
        return self.lookup[label]


@lru_cache(maxsize=256)
def _label_codes(values: tuple[str, ...]) -> Mapping[str, int]:
    # Canonicalised again so a column built without validation (model_construct) agrees.
    return MappingProxyType({canonical_category(v) or v: i for i, v in enumerate(values)})


Column = Annotated[NumericColumn | CategoricalColumn, Field(discriminator="type")]


class MixSpec(_Strict):
    """Posting-mix share columns: each in [0, 1], together summing to 1 within ``tolerance``."""

    columns: list[str] = Field(min_length=2)
    tolerance: float = Field(default=0.01, gt=0, lt=0.5)
    description: str = ""


class DecisionSpec(_Strict):
    """What the marketer chose: the style (required), the mix and other decisions (optional)."""

    style: CategoricalColumn
    mix: MixSpec | None = None
    extra: list[Column] = Field(default_factory=list)


class Outcome(_Strict):
    """An outcome the objective weighs; ``weight`` is the default weight in the objective."""

    name: str
    type: Literal["numeric", "binary"] = "numeric"
    direction: Literal["maximize", "minimize"] = "maximize"
    weight: float = Field(default=1.0, ge=0)
    description: str = ""

    @property
    def signed_weight(self) -> float:
        """Weight with the direction folded in: the objective is always maximised."""
        return self.weight if self.direction == "maximize" else -self.weight


class ExtraColumns(StrEnum):
    """What to do with columns that the spec does not declare."""

    error = "error"
    ignore = "ignore"


class ReadOptions(_Strict):
    """How to read a CSV log (Parquet needs none)."""

    sep: str = ","


class CampaignSpec(_Strict):
    """A whole campaign-log contract."""

    name: str
    description: str = ""
    format_version: int = SPEC_FORMAT_VERSION
    id: str | None = None
    timestamp: str | None = None
    context: list[Column] = Field(min_length=1)
    decision: DecisionSpec
    outcomes: list[Outcome] = Field(min_length=1)
    propensity: str | None = None
    passthrough: list[str] = Field(default_factory=list)
    extra_columns: ExtraColumns = ExtraColumns.error
    read: ReadOptions = Field(default_factory=ReadOptions)
    max_quarantine_fraction: float = Field(default=0.5, gt=0, le=1)

    @model_validator(mode="after")
    def _names_unique(self) -> CampaignSpec:
        if self.format_version != SPEC_FORMAT_VERSION:
            raise ValueError(
                f"format_version {self.format_version} is not supported "
                f"(this version reads {SPEC_FORMAT_VERSION})"
            )
        names = self.declared_columns + self.passthrough
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"columns declared more than once: {dupes}")
        if not any(o.weight > 0 for o in self.outcomes):
            raise ValueError("at least one outcome needs a weight > 0")
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
    def declared_columns(self) -> list[str]:
        """Every column the spec gives a role (not counting passthrough)."""
        cols = [c for c in (self.id, self.timestamp, self.propensity) if c]
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
        payload = json.dumps(self.model_dump(mode="json"), sort_keys=True).encode()
        return hashlib.sha256(payload).hexdigest()[:16]


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
