"""Checking one categorical request value against the labels its spec declares.

Not ``Literal[...]``: a spec may declare values as numbers or booleans (``values: [0, 1]``),
stored as their canonical labels (``"0"``, ``"1"``), and a JSON client should send them as it
reads them in the spec; and pydantic's literal error lists every allowed value, which for a
column of 50,000 values made a 422 of a batch 70 MB. :class:`CategoryCheck` accepts each
label as a string (exactly) and the number or boolean that canonicalises to it (through the
contract's one canonicaliser), documents both in OpenAPI, and names at most
:data:`SHOWN_VALUES` values when it refuses one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

from engage.contract.categories import canonical_category

SHOWN_VALUES = 5  # allowed values an error lists before saying how many more there are


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
    declared it as. Strings must match a label exactly (what OpenAPI lists is what passes).

    Args:
        labels: the declared labels, in the spec's order.
    """

    def __init__(self, labels: Sequence[str]) -> None:
        self.labels = frozenset(labels)
        shown = ", ".join(repr(v) for v in labels[:SHOWN_VALUES])
        more = len(labels) - SHOWN_VALUES
        self.hint = shown + (
            f" or one of {more:,} more (GET /v1/schema lists them)" if more > 0 else ""
        )
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
