"""The numeric column check: coercion, missing and text cells, bounds and rules."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.contract.checks.missing import blank_cells
from engage.contract.checks.numeric import (
    BINARY,
    PROBABILITY,
    SHARE,
    Rule,
    check_numeric,
    coerce_numeric,
)
from engage.contract.report import ProblemCollector


def _check(values, **kwargs):
    raw = (
        pd.Series(values, dtype=object)
        if any(isinstance(v, str) for v in values)
        else pd.Series(values)
    )
    c = ProblemCollector(len(raw))
    out = check_numeric(c, raw, "x", **kwargs)
    return c, out


def _messages(c: ProblemCollector) -> list[str]:
    return [p.message for p in c.problems]


def test_coerce_numbers_text_and_blanks():
    values, missing, text = coerce_numeric(
        pd.Series([" 1.5", "", "  ", None, "abc", 3], dtype=object)
    )
    np.testing.assert_array_equal(values, [1.5, np.nan, np.nan, np.nan, np.nan, 3.0])
    assert missing.tolist() == [False, True, True, True, False, False]
    assert text.tolist() == [False, False, False, False, True, False]


@pytest.mark.parametrize(
    "raw",
    [
        pd.Series([True, False]),
        pd.Series([1, 0], dtype="int8"),
        pd.Series(pd.Categorical(["1", "0"])),
        pd.Series(["1", "0"], dtype="str"),
    ],
)
def test_coerce_typed_columns(raw):
    values, missing, text = coerce_numeric(raw)
    assert values.dtype == np.float64 and values.tolist() == [1.0, 0.0]
    assert not missing.any() and not text.any()


def test_clean_column_returns_float64_and_no_problem():
    c, out = _check([1, 2.5, "3"])
    assert c.problems == [] and out.tolist() == [1.0, 2.5, 3.0]


def test_all_text_is_fatal_and_quarantines_nothing():
    c, out = _check(["a", "b", None])
    assert out is None
    assert _messages(c) == ["column 'x' should be numeric but holds text (e.g. 'a', 'b') in 2 rows"]
    assert c.problems[0].severity == "error" and not c.bad.any()


def test_every_kind_of_bad_row():
    c, out = _check(
        [1.0, None, "zz", np.inf, -5.0, 11.0, 0.5],
        lo=0,
        hi=10,
        rules=[Rule(lambda v: v == 0.5, "is a half")],
    )
    assert _messages(c) == [
        "column 'x': 1 row has a missing value",
        "column 'x': 1 row has a value that is not a number (e.g. 'zz')",
        "column 'x': 1 row has an infinite value",
        "column 'x': 2 rows have a value outside [0, 10] (e.g. -5, 11)",
        "column 'x': 1 row has a value that is a half (e.g. 0.5)",
    ]
    assert c.bad.tolist() == [False, True, True, True, True, True, True]
    assert c.reasons(np.arange(1, 7)).tolist() == [
        "column 'x': missing value",
        "column 'x': not a number ('zz')",
        "column 'x': infinite value",
        "column 'x': -5 outside [0, 10]",
        "column 'x': 11 outside [0, 10]",
        "column 'x': 0.5 is a half",
    ]
    assert out[0] == 1.0 and np.isnan(out[1])


def test_one_sided_bound():
    c, _ = _check([0.0, 5.0, 99.0], lo=1)
    assert _messages(c) == ["column 'x': 1 row has a value outside [1, inf] (e.g. 0)"]


def test_infinity_is_not_also_out_of_bounds():
    c, _ = _check([np.inf, -np.inf], lo=0, hi=1, rules=SHARE)
    assert [p.count for p in c.problems] == [2]


@pytest.mark.parametrize(
    ("rule", "values", "bad"),
    [
        (PROBABILITY, [0.0, 1e-9, 1.0, 1.5, -0.1], [True, False, False, True, True]),
        (BINARY, [0, 1, 0.5, 2, 1.0], [False, False, True, True, False]),
        (SHARE[0], [-0.01, 0.0, 1.0], [True, False, False]),
        (SHARE[1], [1.0, 1.01, 0.3], [False, True, False]),
    ],
)
def test_named_rules(rule, values, bad):
    c, _ = _check(values, rules=[rule])
    assert c.bad.tolist() == bad
    if any(bad):
        assert rule.description in c.problems[0].message


def test_blank_cells():
    assert blank_cells(pd.Series(["a", " ", "", None], dtype=object)).tolist() == [
        False,
        True,
        True,
        False,
    ]
    assert blank_cells(pd.Series(["", "b"], dtype="str")).tolist() == [True, False]
    assert not blank_cells(pd.Series([1.0, np.nan])).any()
    assert not blank_cells(pd.Series([1, None], dtype=object)).any()  # no strings at all
    assert blank_cells(pd.Series([], dtype=object)).tolist() == []
