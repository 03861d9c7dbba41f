"""The categorical column check: labels, missing values and unknown categories."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engage.contract.checks.categorical import Categories, check_categorical
from engage.contract.report import ProblemCollector
from engage.contract.spec import CategoricalColumn

COL = CategoricalColumn(name="tier", values=["gold", "silver", 3])


def _check(values, col: CategoricalColumn = COL):
    raw = pd.Series(values, dtype=object)
    c = ProblemCollector(len(raw))
    return c, check_categorical(c, raw, col)


def test_clean_column_gives_labels():
    c, cats = _check(["gold", " silver", 3.0, "3"])
    assert c.problems == []
    taken = cats.take(np.arange(4))
    assert taken.tolist() == ["gold", "silver", "3", "3"]
    assert all(type(v) is str for v in taken)


def test_missing_and_unknown_rows():
    c, _ = _check(["gold", None, "  ", "bronze", 3.5, "bronze", np.nan])
    assert [(p.severity, p.count, p.message) for p in c.problems] == [
        ("quarantine", 3, "column 'tier': 3 rows have a missing value"),
        (
            "quarantine",
            3,
            "column 'tier': 3 rows have unknown categories ['bronze', '3.5'] "
            "(allowed: ['gold', 'silver', '3'])",
        ),
    ]
    assert c.reasons(np.array([1, 3, 4])).tolist() == [
        "column 'tier': missing value",
        "column 'tier': unknown category 'bronze'",
        "column 'tier': unknown category '3.5'",
    ]


def test_many_unknown_categories_are_cut_short():
    c, _ = _check([f"u{i}" for i in range(8)])
    assert "['u0', 'u1', 'u2', 'u3', 'u4'] and 3 more" in c.problems[0].message


def test_booleans_need_boolean_labels():
    flags = CategoricalColumn(name="paid", values=[0, 1])
    c, _ = _check([True, 1, 0], flags)
    assert c.bad.tolist() == [True, False, False]
    assert "unknown categories ['True']" in c.problems[0].message
    c, cats = _check(
        [True, "false", np.False_], CategoricalColumn(name="paid", values=[True, False])
    )
    assert c.problems == [] and cats.take(np.arange(3)).tolist() == ["True", "False", "False"]


def test_take_of_a_missing_row_is_nan():
    cats = Categories(np.array([0, -1, 1]), ["a", "b"])
    taken = cats.take(np.array([2, 1]))
    assert taken.iloc[0] == "b" and pd.isna(taken.iloc[1])
    assert list(taken.index) == [0, 1]
