"""The id column: every row needs one, and each id may appear once."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engage.contract.checks.missing import blank_cells
from engage.contract.messages import examples, format_id, rows_have
from engage.contract.report import ProblemCollector


def check_id(c: ProblemCollector, raw: pd.Series, name: str) -> None:
    """Quarantine rows with a missing id and every repeat of an id after its first row.

    Keeping the first occurrence means a log appended to twice keeps one copy of each row.

    Args:
        c: Where problems and quarantine reasons go.
        raw: The column as read.
        name: The column's name, for messages.
    """
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    missing = (codes < 0) | blank_cells(raw)
    c.quarantine_missing(name, missing, "id")
    present = np.flatnonzero(~missing)
    _, first_idx = np.unique(codes[present], return_index=True)
    first_pos = np.full(len(uniques) + 1, -1, dtype=np.int64)  # per id code: its first row
    first_pos[codes[present][first_idx]] = present[first_idx]
    duplicate = ~missing & (first_pos[codes] != np.arange(len(codes)))
    c.quarantine(
        name,
        duplicate,
        lambda n, pos: (
            f"column {name!r}: {rows_have(n)} a duplicate id "
            f"(e.g. {examples(uniques[codes[pos]])}); the first occurrence of each id is kept"
        ),
        lambda pos: [
            f"duplicate id {format_id(uniques[k])} (first at row {first_pos[k]})"
            for k in codes[pos]
        ],
    )
