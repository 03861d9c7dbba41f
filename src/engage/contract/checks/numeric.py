"""Numeric columns: context and decision numbers, outcomes, mix shares and the propensity.

A numeric column is coerced to float64. Text that parses as a number is accepted; blank
text is a missing value. Rows with a missing, non-numeric, infinite or out-of-range value
(or one that breaks a :class:`Rule`) are quarantined; a column whose every present value is
text is fatal, since it is almost certainly the wrong column or the wrong separator.

Conversions that change a value's type without losing it are warnings, never silent:
booleans read as 1/0, and, in a file format that stores types (Parquet), numbers stored as
text. (A CSV has no types: there every number arrives as text, which is not news.)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype, is_bool_dtype, is_numeric_dtype

from engage.contract.checks.missing import blank_cells
from engage.contract.messages import bounds_text, examples, format_value, plural, rows_have
from engage.contract.report import ProblemCollector


@dataclass(frozen=True)
class Rule:
    """An extra condition on the finite values of a numeric column.

    Attributes:
        broken: Maps the float64 values to a mask of the values that break the rule.
        description: Completes "a value that ..." and "<value> ...", e.g. "is a negative share".
    """

    broken: Callable[[np.ndarray], np.ndarray]
    description: str


PROBABILITY = Rule(lambda v: (v <= 0) | (v > 1), "is not a probability in (0, 1]")
BINARY = Rule(lambda v: (v != 0) & (v != 1), "is not 0 or 1 (binary outcome)")
SHARE = (Rule(lambda v: v < 0, "is a negative share"), Rule(lambda v: v > 1, "is a share above 1"))


def coerce_numeric(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Parse a raw column as numbers.

    Args:
        raw: The column as read.

    Returns:
        The float64 values (NaN where missing or unparsable), the missing mask (NaN, None,
        blank text) and the mask of present values that are not numbers.
    """
    missing = raw.isna().to_numpy(copy=True)
    if is_bool_dtype(raw.dtype) or is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
        return values, missing, np.zeros(len(raw), dtype=bool)
    source = raw.astype(object) if isinstance(raw.dtype, pd.CategoricalDtype) else raw
    parsed = pd.to_numeric(source, errors="coerce")
    values = pd.Series(parsed).to_numpy(dtype="float64", na_value=np.nan)
    failed = np.flatnonzero(~missing & np.isnan(values))
    if len(failed):  # empty / whitespace-only strings are missing values, not text
        missing[failed[blank_cells(raw.iloc[failed])]] = True
    text = ~missing & np.isnan(values)
    return values, missing, text


def check_numeric(
    c: ProblemCollector,
    raw: pd.Series,
    name: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    rules: Sequence[Rule] = (),
    typed_source: bool = False,
) -> np.ndarray | None:
    """Check a numeric column.

    Args:
        c: Where problems and quarantine reasons go.
        raw: The column as read.
        name: The column's name, for messages.
        lo: Inclusive lower bound, if any.
        hi: Inclusive upper bound, if any.
        rules: Extra conditions on the finite values, each quarantining the rows it breaks.
        typed_source: The file format stores column types (Parquet): numbers stored as text
            there are a warning.

    Returns:
        The float64 values of every row, or None if the column is fatal (all text).
    """
    values, missing, text = coerce_numeric(raw)
    n_text, n_present = int(text.sum()), int((~missing).sum())
    raw_values = raw.to_numpy()
    if n_text and n_text == n_present:
        c.error(
            name,
            n_text,
            f"column {name!r} should be numeric but holds text "
            f"(e.g. {examples(raw_values[text], 3)}) in {plural(n_text, 'row')}",
        )
        return None
    warn_silent_conversions(c, raw, missing | text, name, typed_source)
    c.quarantine_missing(name, missing)
    c.quarantine(
        name,
        text,
        lambda n, pos: (
            f"column {name!r}: {rows_have(n)} a value that is not a number "
            f"(e.g. {examples(raw_values[pos])})"
        ),
        lambda pos: [f"column {name!r}: not a number ({format_value(v)})" for v in raw_values[pos]],
    )
    with np.errstate(invalid="ignore"):  # NaN compares False: the masks skip missing values
        c.quarantine(
            name,
            np.isinf(values),
            lambda n, _: f"column {name!r}: {rows_have(n)} an infinite value",
            f"column {name!r}: infinite value",
        )
        finite = np.isfinite(values)
        _check_bounds(c, values, finite, name, lo, hi)
        for rule in rules:
            _check_rule(c, values, finite, name, rule)
    return values


def warn_silent_conversions(
    c: ProblemCollector, raw: pd.Series, unusable: np.ndarray, name: str, typed_source: bool
) -> None:
    """Warn about cells read as numbers from another type: booleans, and text if typed.

    Args:
        c: Where the warnings go.
        raw: The column as read.
        unusable: Cells that are missing or not numbers (quarantined, not converted).
        name: The column's name, for messages.
        typed_source: Whether text in the column is a conversion worth a warning.
    """
    kinds = _cell_kinds(raw)
    booleans = kinds("bool") & ~unusable
    if booleans.any():
        n = int(booleans.sum())
        c.warning(
            name,
            n,
            f"column {name!r}: {rows_have(n)} a boolean (True/False) read as 1/0; "
            "store numbers if the column is not a yes/no flag",
        )
    strings = kinds("str") & ~unusable if typed_source else np.zeros(len(raw), dtype=bool)
    if strings.any():
        n = int(strings.sum())
        c.warning(
            name,
            n,
            f"column {name!r}: {rows_have(n)} a number stored as text "
            f"(e.g. {examples(raw.to_numpy()[strings])}), read as a number; "
            "store the column with a numeric type",
        )


def _cell_kinds(raw: pd.Series) -> Callable[[str], np.ndarray]:
    """A function from ``"bool"``/``"str"`` to the mask of the cells of that Python type.

    Typed columns answer at once; only an object column that mixes types is walked cell by
    cell (and only when asked), so a clean numeric column costs nothing.
    """
    n = len(raw)
    if is_bool_dtype(raw.dtype):
        return lambda kind: np.full(n, kind == "bool")
    if is_numeric_dtype(raw.dtype):
        return lambda kind: np.zeros(n, dtype=bool)
    inferred = infer_dtype(raw, skipna=True)
    if inferred in ("string", "empty"):
        return lambda kind: np.full(n, kind == "str")
    if inferred == "boolean":
        return lambda kind: np.full(n, kind == "bool")
    types = {"bool": (bool, np.bool_), "str": (str,)}
    cells = raw.to_numpy()
    return lambda kind: np.fromiter((isinstance(v, types[kind]) for v in cells), bool, n)


def _check_bounds(
    c: ProblemCollector,
    values: np.ndarray,
    finite: np.ndarray,
    name: str,
    lo: float | None,
    hi: float | None,
) -> None:
    if lo is None and hi is None:
        return
    below = values < lo if lo is not None else np.zeros(len(values), dtype=bool)
    above = values > hi if hi is not None else np.zeros(len(values), dtype=bool)
    bounds = bounds_text(lo, hi)
    c.quarantine(
        name,
        finite & (below | above),
        lambda n, pos: (
            f"column {name!r}: {rows_have(n)} a value outside {bounds} "
            f"(e.g. {examples(values[pos])})"
        ),
        lambda pos: [f"column {name!r}: {format_value(v)} outside {bounds}" for v in values[pos]],
    )


def _check_rule(
    c: ProblemCollector, values: np.ndarray, finite: np.ndarray, name: str, rule: Rule
) -> None:
    what = rule.description
    c.quarantine(
        name,
        finite & rule.broken(values),
        lambda n, pos: (
            f"column {name!r}: {rows_have(n)} a value that {what} (e.g. {examples(values[pos])})"
        ),
        lambda pos: [f"column {name!r}: {format_value(v)} {what}" for v in values[pos]],
    )
