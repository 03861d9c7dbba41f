"""The id check: missing ids and repeats (the first occurrence is kept)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engage.contract.checks.ids import check_id
from engage.contract.report import ProblemCollector


def _check(values):
    raw = pd.Series(values, dtype=object)
    c = ProblemCollector(len(raw))
    check_id(c, raw, "id")
    return c


def test_unique_ids_pass():
    assert _check(["a", "b", 3]).problems == []


def test_missing_and_repeated_ids():
    c = _check(["a", None, "b", "a", " ", "b", "a"])
    assert [(p.count, p.message) for p in c.problems] == [
        (2, "column 'id': 2 rows have a missing id"),
        (
            3,
            "column 'id': 3 rows have a duplicate id (e.g. 'a', 'b'); "
            "the first occurrence of each id is kept",
        ),
    ]
    assert c.bad.tolist() == [False, True, False, True, True, True, True]
    assert c.reasons(np.array([3, 5])).tolist() == [
        "duplicate id 'a' (first at row 0)",
        "duplicate id 'b' (first at row 2)",
    ]


def test_numeric_ids_are_quoted_in_reasons():
    c = _check([17, 18, 17])
    assert c.reasons(np.array([2])).tolist() == ["duplicate id '17' (first at row 0)"]
