"""The mix check: valid shares must sum to 1 within the tolerance; clean rows renormalise."""

from __future__ import annotations

import numpy as np

from engage.contract.checks.mix import check_mix_sum, renormalise
from engage.contract.report import ProblemCollector

COLUMNS = ["a", "b"]


def test_sums_outside_the_tolerance_are_quarantined():
    shares = np.array(
        [[0.5, 0.5], [0.5, 0.505], [0.7, 0.5], [0.2, 0.2], [np.nan, 1.0], [-0.5, 1.5]]
    )
    c = ProblemCollector(len(shares))
    check_mix_sum(c, shares, COLUMNS, 0.01)
    # rows with a missing or out-of-range share were reported by the share columns' own check
    assert c.bad.tolist() == [False, False, True, True, False, False]
    problem = c.problems[0]
    assert problem.column == "a + b"
    assert problem.message == (
        "mix shares ['a', 'b']: 2 rows have shares that do not sum to 1 within 0.01 "
        "(e.g. sums 1.2, 0.4)"
    )
    assert c.reasons(np.array([2])).tolist() == ["mix shares sum to 1.2 (must be 1 within 0.01)"]


def test_renormalise():
    out = renormalise(np.array([[0.5, 0.505], [0.25, 0.75]]))
    np.testing.assert_allclose(out.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out[1], [0.25, 0.75])
