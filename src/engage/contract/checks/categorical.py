"""Categorical columns: every present value's label must be one of the spec's ``values``.

Cells are compared by :func:`~engage.contract.categories.canonical_category`, the label the
encoder uses too, so a row this check lets through always has a code.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from engage.contract.categories import factorize_categories
from engage.contract.messages import MAX_EXAMPLES, rows_have
from engage.contract.report import ProblemCollector
from engage.contract.spec import CategoricalColumn


@dataclass(frozen=True)
class Categories:
    """A checked categorical column.

    Attributes:
        codes: Per row, the position of its label in ``labels``; -1 when missing.
        labels: The distinct canonical labels found in the column.
    """

    codes: np.ndarray
    labels: list[str]

    def take(self, positions: np.ndarray) -> pd.Series:
        """The labels at ``positions`` as a str Series with a fresh 0..n-1 index."""
        distinct = pd.Series([*self.labels, None], dtype="str")  # code -1 (missing) -> last
        codes = self.codes[positions]
        taken = distinct.take(np.where(codes < 0, len(self.labels), codes))
        return taken.reset_index(drop=True)


def check_categorical(c: ProblemCollector, raw: pd.Series, col: CategoricalColumn) -> Categories:
    """Check a categorical column: quarantine missing values and unknown categories.

    Args:
        c: Where problems and quarantine reasons go.
        raw: The column as read.
        col: Its declaration (name and allowed values).

    Returns:
        The column's labels; a categorical column is never fatal on its own.
    """
    name = col.name
    factors = factorize_categories(raw)
    codes, labels = factors.codes, np.array(factors.labels, dtype=object)
    c.quarantine_missing(name, codes < 0)
    unknown_label = np.array([label not in col.lookup for label in factors.labels], dtype=bool)
    if unknown_label.any():
        unknown = list(labels[unknown_label])
        shown = unknown[:MAX_EXAMPLES]
        more = f" and {len(unknown) - len(shown)} more" if len(unknown) > len(shown) else ""
        c.quarantine(
            name,
            np.append(unknown_label, False)[codes],  # code -1 (missing) is not unknown
            lambda n, _: (
                f"column {name!r}: {rows_have(n)} unknown categories {shown}{more} "
                f"(allowed: {list(col.values)})"
            ),
            lambda pos: [f"column {name!r}: unknown category {v!r}" for v in labels[codes[pos]]],
        )
    return Categories(codes, factors.labels)
