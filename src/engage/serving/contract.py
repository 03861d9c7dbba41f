"""The request contract derived from a loaded model's campaign spec.

The spec says which profile columns exist, their types, ranges and allowed values; which
decisions a caller may constrain; and which outcomes an objective may weigh. At load time
this module turns it into pydantic models (``create_model``) that routes validate against,
so an API served from a model trained on another spec checks *that* spec's fields, and
:func:`document_contract` writes the same models into the served OpenAPI document.

A profile is checked by the one profile model of :mod:`engage.contract.profiles` (which the
MLflow pyfunc uses too); categorical values by its :class:`CategoryCheck`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)

from engage.contract.profiles import profile_model
from engage.contract.spec import CampaignSpec, CategoricalColumn, NumericColumn
from engage.policy.policy import Constraints
from engage.serving.categorical import API_LISTED, CategoryCheck
from engage.serving.examples import EXAMPLE_PROFILE
from engage.serving.schemas import (
    ConstraintInfo,
    DecisionInfo,
    OutcomeInfo,
    ProfileFieldInfo,
)

_CLOSED = ConfigDict(extra="forbid")


MAX_WEIGHT = 1e6  # weights are relative; a bound keeps weighted scores finite


def _require_a_positive_weight(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Say in JSON Schema what :class:`_ObjectiveBase` checks: some weight is > 0."""
    schema["anyOf"] = [
        {"required": [name], "properties": {name: {"type": "number", "exclusiveMinimum": 0}}}
        for name in model.model_fields
    ]


class _ObjectiveBase(BaseModel):
    """Outcome weights that replace the model's objective whole (unnamed outcomes weigh 0)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_require_a_positive_weight)

    @model_validator(mode="after")
    def _something_to_rank(self) -> _ObjectiveBase:
        # An all-zero objective ranks nothing; the policy would refuse it with a 500.
        if not any(w is not None and w > 0 for w in self.__dict__.values()):
            raise ValueError(
                "at least one weight must be > 0: the objective replaces the model's weights "
                "whole, and outcomes it does not name weigh 0"
            )
        return self


def _objective_model(spec: CampaignSpec) -> type[BaseModel]:
    """Outcome weights of ``spec``: each a finite number in [0, MAX_WEIGHT], or absent (not
    null: the request's map holds numbers), at least one > 0."""
    fields = {
        o.name: (
            float,
            Field(
                default=None,
                ge=0,
                le=MAX_WEIGHT,
                allow_inf_nan=False,
                strict=True,
                description=o.description,
            ),
        )
        for o in spec.outcomes
    }
    model: type[BaseModel] = create_model(  # type: ignore[call-overload]
        "Objective", __base__=_ObjectiveBase, **fields
    )
    return model


def _optional(annotation: Any, **kwargs: Any) -> tuple[Any, Any]:
    return (annotation | None, Field(default=None, **kwargs))


def mix_label(column: str) -> str:
    """The content type a mix column stands for (``mix_promotional`` -> ``promotional``)."""
    return column.removeprefix("mix_")


@dataclass(frozen=True)
class SpecContract:
    """Validators and descriptions derived from one spec.

    Attributes:
        spec: the model's campaign spec.
        profile_model: one profile, every context column required, no other field.
        table_profile_model: the same checks for a profile read from a table (CSV, Parquet),
            whose numeric cells may have been read as text: each such cell is read as a number
            on its own, and only a cell that is not one is refused.
        objective_model: outcome weights, each optional, finite and >= 0.
        constraints_model: the constraint keys this spec allows.
    """

    spec: CampaignSpec
    profile_model: type[BaseModel]
    objective_model: type[BaseModel]
    constraints_model: type[BaseModel]
    constraint_keys: tuple[ConstraintInfo, ...]
    table_profile_model: type[BaseModel]

    @classmethod
    def from_spec(cls, spec: CampaignSpec) -> SpecContract:
        """Build the validators of ``spec``."""
        strict_profile = profile_model(spec, from_text=False, listed=API_LISTED)
        table_profile = profile_model(spec, from_text=True, listed=API_LISTED)

        objective_model = _objective_model(spec)
        keys: list[ConstraintInfo] = []
        fields: dict[str, Any] = {}
        styles = CategoryCheck(spec.styles).annotation()
        fields["styles"] = _optional(list[styles], min_length=1, max_length=len(spec.styles) * 2)
        keys.append(
            ConstraintInfo(
                key="styles", type="list[str]", description=f"allowed styles, of {spec.styles}"
            )
        )
        for col in spec.extra_decisions:
            if isinstance(col, CategoricalColumn):
                allowed = CategoryCheck(col.values).annotation()
                fields[col.name] = _optional(
                    list[allowed], min_length=1, max_length=len(col.values) * 2
                )
                keys.append(
                    ConstraintInfo(
                        key=col.name,
                        type="list[str]",
                        description=f"allowed {col.name} values, of {col.values}",
                    )
                )
            else:
                for bound in ("max", "min"):
                    key = f"{bound}_{col.name}"
                    fields[key] = _optional(float, allow_inf_nan=False, strict=True)
                    keys.append(
                        ConstraintInfo(
                            key=key,
                            type="number",
                            description=f"{bound}imum {col.description or col.name}",
                        )
                    )
        for column in spec.mix_columns:
            key = f"max_share_{mix_label(column)}"
            fields[key] = _optional(float, ge=0, le=1, allow_inf_nan=False, strict=True)
            keys.append(
                ConstraintInfo(
                    key=key,
                    type="number in [0, 1]",
                    description=f"largest share of {mix_label(column)} posts",
                )
            )
        constraints_model = create_model(  # type: ignore[call-overload]
            "ConstraintSet", __config__=_CLOSED, **fields
        )
        return cls(
            spec,
            strict_profile,
            objective_model,
            constraints_model,
            tuple(keys),
            table_profile,
        )

    # ------------------------------------------------------------------ request parts

    def objective(self, raw: dict[str, Any] | None) -> dict[str, float] | None:
        """Validated objective overrides (raises ``ValidationError`` located at the key).

        ``{}`` is refused like any objective without a positive weight (the document requires
        one); null or an absent objective keeps the model's."""
        if raw is None:
            return None
        parsed = self.objective_model.model_validate(raw)
        return {k: v for k, v in parsed.model_dump().items() if v is not None}

    def constraints(self, raw: dict[str, Any] | None) -> Constraints | None:
        """Validated constraints as the policy's :class:`Constraints` (or None)."""
        if not raw:
            return None
        given = {
            k: v
            for k, v in self.constraints_model.model_validate(raw).model_dump().items()
            if v is not None
        }
        out = Constraints(styles=given.pop("styles", None))
        for col in self.spec.extra_decisions:
            if isinstance(col, CategoricalColumn):
                if col.name in given:
                    out.categorical[col.name] = list(given[col.name])
                continue
            if f"max_{col.name}" in given:
                out.numeric_max[col.name] = float(given[f"max_{col.name}"])
            if f"min_{col.name}" in given:
                out.numeric_min[col.name] = float(given[f"min_{col.name}"])
        for column in self.spec.mix_columns:
            key = f"max_share_{mix_label(column)}"
            if key in given:
                out.mix_max[column] = float(given[key])
        return out

    def profile_row(self, raw: dict[str, Any], *, from_table: bool = False) -> list[Any]:
        """One validated profile as a row in context-column order.

        ``from_table``: the profile is a row of a table (CSV, Parquet) whose numeric columns
        may have been read as text (one cell that is not a number makes a CSV column text):
        each such cell is read as a number, and only a cell that is not one is refused
        (``'high' is not a number``), so one bad cell blames one profile, not all of them.
        """
        model = self.table_profile_model if from_table else self.profile_model
        parsed = model.model_validate(raw)
        return [getattr(parsed, name) for name in self.spec.context_names]

    # ------------------------------------------------------------------ descriptions

    def example_profile(self) -> dict[str, Any]:
        """A valid profile for docs: the shipped example when it fits this spec, else one built from it."""
        try:
            self.profile_model.model_validate(EXAMPLE_PROFILE)
            return dict(EXAMPLE_PROFILE)
        except ValidationError:
            pass
        example: dict[str, Any] = {}
        for col in self.spec.context:
            if isinstance(col, CategoricalColumn):
                example[col.name] = col.values[0]
            else:
                lo = col.min if col.min is not None else 0.0
                hi = col.max if col.max is not None else lo + 1.0
                example[col.name] = lo + (hi - lo) / 2 if math.isfinite(hi - lo) else lo
        return example

    def profile_fields(self) -> list[ProfileFieldInfo]:
        """Profile fields with types, ranges, allowed values and descriptions."""
        return [ProfileFieldInfo(type=_kind(col), **_column_info(col)) for col in self.spec.context]

    def decisions(self) -> list[DecisionInfo]:
        """What a recommendation decides: the style, mix shares and other decisions."""
        spec = self.spec
        out = [
            DecisionInfo(
                name=spec.style.name,
                kind="style",
                values=spec.styles,
                description=spec.style.description,
            )
        ]
        mix_desc = spec.decision.mix.description if spec.decision.mix else ""
        out += [
            DecisionInfo(
                name=mix_label(c), kind="mix_share", min=0.0, max=1.0, description=mix_desc
            )
            for c in spec.mix_columns
        ]
        out += [DecisionInfo(kind=_kind(col), **_column_info(col)) for col in spec.extra_decisions]
        return out

    def outcomes(self) -> list[OutcomeInfo]:
        """Outcomes an objective can weigh, with their default weights."""
        return [
            OutcomeInfo(
                name=o.name,
                type=o.type,
                direction=o.direction,
                default_weight=o.weight,
                description=o.description,
            )
            for o in self.spec.outcomes
        ]


def _kind(col: NumericColumn | CategoricalColumn) -> str:
    return "categorical" if isinstance(col, CategoricalColumn) else "numeric"


def _column_info(col: NumericColumn | CategoricalColumn) -> dict[str, Any]:
    """The name, allowed values or range, and description of a spec column."""
    if isinstance(col, CategoricalColumn):
        return {"name": col.name, "values": list(col.values), "description": col.description}
    return {"name": col.name, "min": col.min, "max": col.max, "description": col.description}
