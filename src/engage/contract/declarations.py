"""The typed declaration of each kind of column a campaign-log spec names.

:mod:`engage.contract.spec` assembles them into a :class:`~engage.contract.spec.CampaignSpec`
and re-exports them; import them from there.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    SerializerFunctionWrapHandler,
    Tag,
    ValidationInfo,
    field_validator,
    model_serializer,
    model_validator,
)

from engage.contract.categories import canonical_category


class Strict(BaseModel):
    """A frozen model that refuses unknown keys (a typo in a spec is an error).

    Keys added to the format after a spec was first written (listed in ``added_keys``) are
    dumped only when they differ from their defaults: a spec that does not use them dumps,
    fingerprints and is stored in a model artifact exactly as before, and a reader that
    predates them can still load it.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    added_keys: ClassVar[tuple[str, ...]] = ()

    @model_serializer(mode="wrap")
    def _omit_added_defaults(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        data: dict[str, Any] = handler(self)
        fields = type(self).model_fields
        for key in self.added_keys:
            if getattr(self, key) == fields[key].get_default(call_default_factory=True):
                data.pop(key, None)
        return data


class OutlierPolicy(StrEnum):
    """What validation does with values far outside the bulk of a numeric column.

    See :mod:`engage.contract.checks.outliers` for the rule. ``quarantine`` sets the rows
    aside with a reason, ``fatal`` rejects the log, ``warn`` keeps them and reports a warning,
    ``keep`` does not judge the column at all.
    """

    quarantine = "quarantine"
    fatal = "fatal"
    warn = "warn"
    keep = "keep"


def _ordered(name: str, lo: float | None, hi: float | None) -> None:
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"column {name!r}: min {lo} > max {hi}")


class NumericColumn(Strict):
    """A numeric column with optional inclusive bounds.

    ``outliers`` defaults to ``keep`` (not judged): profile and decision numbers such as
    followers or budgets are heavy-tailed by nature (in the simulated world the largest
    follower count lies 761 inter-quartile ranges above the upper quartile, and the outlier
    fence would flag 2% of rows), and the tree models split on ranks, so an extreme value
    cannot dominate them the way an extreme outcome dominates a mean. Declare ``min``/``max``
    for them, or set ``outliers: warn`` (or ``quarantine``/``fatal``) to have them judged.
    """

    name: str
    type: Literal["numeric"] = "numeric"
    min: float | None = None
    max: float | None = None
    outliers: OutlierPolicy = OutlierPolicy.keep
    description: str = ""
    # The unit explanations write after a value, e.g. "days", "USD per month" (presentation only).
    unit: str = ""
    added_keys: ClassVar[tuple[str, ...]] = ("outliers", "unit")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> NumericColumn:
        _ordered(self.name, self.min, self.max)
        return self


class CategoricalColumn(Strict):
    """A categorical column whose allowed values are listed in order (the order is the code).

    ``values`` may be written as strings, numbers or booleans (``[0, 1]``, ``[true, false]``);
    each is stored as its :func:`~engage.contract.categories.canonical_category` label, the
    same label every cell of the column is compared and encoded as.
    """

    name: str
    type: Literal["categorical"] = "categorical"
    values: list[str] = Field(min_length=1)
    description: str = ""
    # What a code means in words, e.g. {"1": "action", "2": "product"} (presentation only).
    labels: dict[str, str] = Field(default_factory=dict)
    added_keys: ClassVar[tuple[str, ...]] = ("labels",)

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

    @field_validator("labels", mode="before")
    @classmethod
    def _canonical_label_keys(cls, raw: Any) -> Any:
        # YAML reads `1: action` with an int key: compare keys as the values are compared.
        if not isinstance(raw, Mapping):
            return raw
        return {canonical_category(k) or "": v for k, v in raw.items()}

    @model_validator(mode="after")
    def _labels_name_values(self) -> CategoricalColumn:
        unknown = sorted(set(self.labels) - set(self.values))
        if unknown:
            raise ValueError(f"column {self.name!r}: labels for values it does not have: {unknown}")
        return self

    def label(self, value: Any) -> str:
        """The words ``labels`` declares for a value's code, else its canonical form.

        ``labels`` are for people (answers, explanations); a cell is still compared and
        encoded by its canonical form, as listed in ``values``.
        """
        text = canonical_category(value) or str(value)
        return self.labels.get(text, text)

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


class Outcome(Strict):
    """An outcome the objective weighs; ``weight`` is the default weight in the objective.

    ``min``/``max`` are inclusive bounds (rows outside are quarantined). ``outliers``
    defaults to ``quarantine``: the objective and every off-policy value are means of
    outcomes, so one absurd value (a typo of 1e12) would decide which model is promoted.
    Both apply to numeric outcomes; a binary one must be 0 or 1.
    """

    name: str
    type: Literal["numeric", "binary"] = "numeric"
    direction: Literal["maximize", "minimize"] = "maximize"
    weight: float = Field(default=1.0, ge=0)
    min: float | None = None
    max: float | None = None
    outliers: OutlierPolicy = OutlierPolicy.quarantine
    description: str = ""
    # The unit explanations and answers state, e.g. "conversions per 1,000 followers".
    unit: str = ""
    added_keys: ClassVar[tuple[str, ...]] = ("min", "max", "outliers", "unit")

    @model_validator(mode="after")
    def _bounds_ordered(self) -> Outcome:
        _ordered(self.name, self.min, self.max)
        return self

    @property
    def signed_weight(self) -> float:
        """Weight with the direction folded in: the objective is always maximised."""
        return self.weight if self.direction == "maximize" else -self.weight


class ConstantPropensity(Strict):
    """One logged propensity for every row: each row's style was drawn with this probability.

    A randomised experiment over three styles is ``{value: 0.3333}`` (or ``propensity: 0.3333``).
    """

    value: float = Field(gt=0, le=1)
    description: str = ""


def _propensity_kind(raw: Any) -> str | None:
    if isinstance(raw, str):
        return "column"
    if isinstance(raw, Mapping | ConstantPropensity):
        return "constant"
    return None  # pydantic reports the custom error below


# A column name or a constant. The discriminator picks the branch from the raw value, so an
# error names that branch only ("propensity.constant.value: ...") instead of failing both.
Propensity = Annotated[
    Annotated[str, Tag("column")] | Annotated[ConstantPropensity, Tag("constant")],
    Discriminator(
        _propensity_kind,
        custom_error_type="propensity",
        custom_error_message="propensity must be a column name, a probability in (0, 1] "
        "or {value: <probability>}",
    ),
]


#: The named timestamp format of ISO 8601 dates and times (``2025-03-04``, ``2025-03-04T10:30:00Z``).
ISO8601 = "ISO8601"


def timestamp_format(raw: str) -> str:
    """A declared timestamp format, checked: ``ISO8601`` (any case, ``ISO 8601`` too) or a
    ``strptime`` format such as ``%d/%m/%Y`` that reads back the dates it writes.

    Raises:
        ValueError: the format has no ``%`` directive, is pandas' ``mixed`` (a guess per row,
            what declaring a format is meant to end), or does not read back what it writes.
    """
    text = raw.strip()
    if text.replace(" ", "").replace("-", "").upper() == ISO8601:
        return ISO8601
    if text.lower() == "mixed" or "%" not in text:
        raise ValueError(
            f"timestamp format {raw!r} is not ISO8601 or a strptime format such as "
            "'%d/%m/%Y' or '%m/%d/%Y %H:%M'"
        )
    sample = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
    try:
        datetime.strptime(sample.strftime(text), text)
    except ValueError as exc:
        raise ValueError(
            f"timestamp format {raw!r} does not read back the dates it writes: {exc}"
        ) from exc
    return text
