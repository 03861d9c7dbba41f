"""The one rule that turns a categorical cell into the label it is compared and encoded as.

Validation, encoding and the spec's own ``values`` all go through :func:`canonical_category`,
so a value the validator accepts always has a code, and a label the spec declares always
matches the cells that spell it. The rule:

* ``None``, NaN, ``pd.NA``/``NaT`` and empty or whitespace-only strings are *missing*.
* Booleans are ``"True"`` / ``"False"``, and so are the strings pandas' CSV reader turns into
  booleans (``true``, ``TRUE``, ``false``, ...): whether a column arrives as bools or as text
  depends on its other cells, and the label must not.
* Integers and integral floats are their integer digits (``1``, ``1.0``, ``np.int8(1)`` ->
  ``"1"``): a column of codes with one gap is read as floats, and must still match.
* Other floats are their shortest round-trip form (``0.1`` -> ``"0.1"``, never ``"0.1000…"``).
* Strings are stripped of surrounding whitespace; anything else is ``str(value)`` stripped.

Booleans are deliberately not numbers here: ``True`` never matches ``"1"``. A flag column
declared ``values: ["0", "1"]`` that arrives as booleans is reported as unknown categories
(declare ``values: [true, false]`` instead) rather than being silently reinterpreted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype

# The spellings pandas' CSV readers parse as booleans (their default true/false values).
_BOOLEAN_SPELLINGS = {
    "True": "True",
    "TRUE": "True",
    "true": "True",
    "False": "False",
    "FALSE": "False",
    "false": "False",
}

# Object columns whose distinct values may hash as equal yet canonicalise apart
# (``True == 1 == 1.0`` in Python, so ``pd.factorize`` would merge them).
_MIXED_KINDS = {"mixed", "mixed-integer"}


def canonical_category(value: Any) -> str | None:
    """Return the label a categorical value is compared and encoded as, or None if missing.

    The function is idempotent (a label canonicalises to itself), so the strings in a
    validated frame encode to the same codes as the raw cells they came from.

    Args:
        value: One cell or one declared value: str, bool, int, float (Python or numpy), a
            missing marker, or any other object (compared as its stripped ``str``).

    Returns:
        The canonical label, or None when the value counts as missing.

    Examples:
        >>> [canonical_category(v) for v in (" a ", 1.0, True, "true", 0.5, "  ", None)]
        ['a', '1', 'True', 'True', '0.5', None, None]
    """
    if isinstance(value, str):  # first: by far the most common cell type
        text = value.strip()
        return _BOOLEAN_SPELLINGS.get(text, text) if text else None
    if isinstance(value, bool | np.bool_):
        return "True" if value else "False"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        if np.isnan(value):
            return None
        if float(value).is_integer():
            return str(int(value))
        return str(value)  # numpy and Python both print the shortest round-trip form
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class CategoryFactors:
    """A column factorised by canonical label.

    Attributes:
        codes: One int per row: its position in ``labels``, or -1 when the value is missing.
        labels: The distinct canonical labels, in first-seen order.
    """

    codes: np.ndarray
    labels: list[str]


def factorize_categories(values: pd.Series | np.ndarray | Iterable[Any]) -> CategoryFactors:
    """Factorise a column by :func:`canonical_category`, touching each distinct value once.

    Equivalent to applying :func:`canonical_category` to every cell, but vectorised: the
    Python-level work runs over the distinct values only, except for object columns that
    mix booleans or strings with numbers, which are canonicalised cell by cell.

    Args:
        values: The raw cells of one column.

    Returns:
        The per-row codes (-1 for missing) and the distinct labels.
    """
    if not isinstance(values, pd.Series | np.ndarray):
        values = np.asarray(list(values), dtype=object)
    if values.dtype == object and infer_dtype(values, skipna=True) in _MIXED_KINDS:
        per_cell = np.array([canonical_category(v) for v in values], dtype=object)
        cell_codes, cell_labels = pd.factorize(per_cell, use_na_sentinel=True)
        return CategoryFactors(
            np.asarray(cell_codes, dtype=np.int64), [str(u) for u in cell_labels]
        )
    raw_codes, uniques = pd.factorize(values, use_na_sentinel=True)
    # Distinct raw values can share a label (" a" and "a", 1 and "1"): factorise the labels.
    raw_labels = np.array([canonical_category(u) for u in uniques], dtype=object)
    label_codes, labels = pd.factorize(raw_labels, use_na_sentinel=True)
    remap = np.append(np.asarray(label_codes, dtype=np.int64), -1)  # raw code -1 stays -1
    codes = remap[np.asarray(raw_codes, dtype=np.int64)]
    return CategoryFactors(codes, [str(u) for u in labels])
