"""The one check of a business profile against a spec: the API, ``engage recommend``, the batch
job and the MLflow pyfunc all validate profiles with the model built here.

A profile has every context column of the spec and no other field. A numeric value is a finite
number within the column's range (a JSON string is not a number); a categorical value is a
declared label, or the number or boolean the spec declared it as (:class:`CategoryCheck`).
A profile read from a table (CSV, Parquet, a pandas frame) may carry numbers as text, because
one cell that is not a number makes a whole CSV column text: ``from_text`` reads each such cell
as a number on its own and refuses only a cell that is not one (``'high' is not a number``).

Categorical values are not ``Literal[...]``: a spec may declare values as numbers or booleans
(``values: [0, 1]``), stored as their canonical labels (``"0"``, ``"1"``), and a JSON client
should send them as it reads them in the spec; and pydantic's literal error lists every allowed
value, which for a column of 50,000 values made a 422 of a batch 70 MB. :class:`CategoryCheck`
accepts each label as a string (exactly) and the number or boolean that canonicalises to it
(through the contract's one canonicaliser), documents both in JSON Schema, and names at most
:data:`SHOWN_VALUES` values when it refuses one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import pandas as pd
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from engage.contract.categories import canonical_category
from engage.contract.spec import CampaignSpec, CategoricalColumn, NumericColumn

SHOWN_VALUES = 5  # allowed values an error lists before saying how many more there are
SHOWN_TEXT = 40  # characters of a refused text cell quoted in its message
_CLOSED = ConfigDict(extra="forbid")


def json_forms(label: str) -> list[Any]:
    """The JSON values accepted for a declared label: the label, and the boolean or number
    that canonicalises to it (``"1"`` -> ``["1", 1]``, ``"True"`` -> ``["True", True]``)."""
    forms: list[Any] = [label]
    candidate: Any = None
    if label in ("True", "False"):
        candidate = label == "True"
    else:
        try:
            candidate = int(label)
        except ValueError:
            try:
                number = float(label)
                candidate = number if math.isfinite(number) else None
            except ValueError:
                pass
    if candidate is not None and canonical_category(candidate) == label:
        forms.append(candidate)  # only where the one canonicaliser maps it back exactly
    return forms


class CategoryCheck:
    """Validator of one categorical value: a declared label, or the number or boolean the spec
    declared it as. Strings must match a label exactly (what the schema lists is what passes).

    Args:
        labels: the declared labels, in the spec's order.
        listed: where the caller can read every label, said when more than
            :data:`SHOWN_VALUES` are left out of a message (e.g. ``"GET /v1/schema lists
            them"``); default: the model's spec.
    """

    def __init__(self, labels: Sequence[str], listed: str = "the model's spec lists them") -> None:
        self.labels = frozenset(labels)
        shown = ", ".join(repr(v) for v in labels[:SHOWN_VALUES])
        more = len(labels) - SHOWN_VALUES
        self.hint = shown + (f" or one of {more:,} more ({listed})" if more > 0 else "")
        self.forms = [form for label in labels for form in json_forms(label)]

    def __call__(self, value: Any) -> str:
        if isinstance(value, str):
            label: str | None = value
        elif isinstance(value, bool | int | float):
            label = canonical_category(value)
        else:
            raise PydanticCustomError(
                "category_type", "Input should be one of {allowed}", {"allowed": self.hint}
            )
        if label not in self.labels:
            raise PydanticCustomError(
                "category", "Input should be one of {allowed}", {"allowed": self.hint}
            )
        return label

    def annotation(self) -> Any:
        """The type to declare: a string checked by this validator, documented as an enum."""
        return Annotated[str, PlainValidator(self), WithJsonSchema({"enum": self.forms})]


def number_from_text(value: Any) -> Any:
    """A number written as text (a table cell read as a string) as that number; a text that is
    not a number is refused naming it (``'high' is not a number``). Other values pass as they
    are, to the numeric field's own checks."""
    if not isinstance(value, str):
        return value
    try:
        if "_" in value:  # float() would read "1_000"
            raise ValueError(value)
        return float(value)
    except ValueError:
        shown = value if len(value) <= SHOWN_TEXT else value[: SHOWN_TEXT - 1] + "…"
        raise PydanticCustomError(
            "not_a_number", "{text} is not a number", {"text": repr(shown)}
        ) from None


def _numeric_field(col: NumericColumn, *, from_text: bool) -> tuple[Any, Any]:
    kind: Any = Annotated[float, BeforeValidator(number_from_text)] if from_text else float
    return (
        kind,
        Field(
            ge=col.min, le=col.max, strict=True, allow_inf_nan=False, description=col.description
        ),
    )


def profile_model(
    spec: CampaignSpec, *, from_text: bool = False, listed: str = "the model's spec lists them"
) -> type[BaseModel]:
    """The model of one profile of ``spec``: every context column required, no other field.

    Args:
        spec: the model's campaign spec.
        from_text: read numbers written as text (the profile is a row of a table).
        listed: where every allowed category is listed (see :class:`CategoryCheck`).
    """
    fields: dict[str, Any] = {}
    for col in spec.context:
        if isinstance(col, CategoricalColumn):
            check = CategoryCheck(col.values, listed)
            fields[col.name] = (check.annotation(), Field(description=col.description))
        else:
            fields[col.name] = _numeric_field(col, from_text=from_text)
    model: type[BaseModel] = create_model(
        "Profile",
        __config__=_CLOSED,
        __doc__=f"A business profile of the {spec.name} spec.",
        **fields,
    )
    return model


@dataclass(frozen=True)
class ProfileProblem:
    """One refused value: the profile's row (its frame index label), the column, why."""

    row: Any
    column: str
    message: str


class ProfileError(ValueError):
    """Some profiles of a frame do not fit the spec; ``problems`` names each row and column."""

    def __init__(self, problems: Sequence[ProfileProblem], n_profiles: int, shown: int) -> None:
        self.problems = list(problems)
        bad = len({p.row for p in self.problems})
        lines = [
            f"{bad:,} of {n_profiles:,} profile{'s' if n_profiles != 1 else ''} do not fit the "
            "model's spec; nothing was recommended:"
        ]
        lines += [f"  row {p.row!r}, column {p.column!r}: {p.message}" for p in problems[:shown]]
        if len(self.problems) > shown:
            lines.append(f"  and {len(self.problems) - shown:,} more problems")
        super().__init__("\n".join(lines))


def _location(error: Any) -> str:
    loc = error.get("loc", ())
    return ".".join(str(part) for part in loc) if loc else "(profile)"


def check_frame(
    model: type[BaseModel],
    spec: CampaignSpec,
    frame: pd.DataFrame,
    shown: int = 20,
) -> None:
    """Check every profile of ``frame`` (its context columns; other columns are not profile
    fields and are left alone) with ``model`` from :func:`profile_model`.

    Raises:
        ProfileError: some rows do not fit, each problem naming the row's index label, the
            column and the message (the first ``shown`` in the message, all in ``problems``).
    """
    names = [c for c in spec.context_names if c in frame.columns]
    part = frame[names]
    records = part.astype(object).where(part.notna(), None).to_dict("records")
    problems: list[ProfileProblem] = []
    for label, raw in zip(frame.index, records, strict=True):
        try:
            model.model_validate(raw)
        except ValidationError as exc:
            for err in exc.errors(include_url=False, include_input=False):
                problems.append(ProfileProblem(label, _location(err), str(err["msg"])))
    if problems:
        raise ProfileError(problems, len(frame), shown)
