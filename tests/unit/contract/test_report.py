"""The validation report: its summaries, its fatal error, and how problems are collected."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.contract.report import (
    LogValidationError,
    Problem,
    ProblemCollector,
    ValidationReport,
)


def _report(problems: list[Problem], n: int = 4, n_bad: int = 1) -> ValidationReport:
    return ValidationReport(
        clean=pd.DataFrame({"x": range(n - n_bad)}),
        quarantine=pd.DataFrame({"x": range(n_bad)}),
        problems=problems,
        n_input_rows=n,
    )


def test_problem_prints_its_severity():
    assert str(Problem("quarantine", "x", 2, "column 'x': 2 rows have a missing value")) == (
        "QUARANTINE: column 'x': 2 rows have a missing value"
    )


def test_summary_counts_and_orders_by_severity():
    report = _report(
        [
            Problem("warning", None, 1, "w"),
            Problem("quarantine", "x", 1, "q"),
            Problem("error", None, 1, "e1"),
            Problem("error", "x", 1, "e2"),
        ]
    )
    assert report.fatal
    assert report.summary().splitlines() == [
        # issue 12: a rejected file's rows are not "clean", whatever passed the row checks
        "4 rows read: file rejected; 3 rows passed the row checks, 1 quarantined (25.0%)",
        "2 errors, 1 quarantine problem, 1 warning",
        "ERROR: e1",
        "ERROR: e2",
        "QUARANTINE: q",
        "WARNING: w",
    ]


def test_empty_report_headline_has_no_division_by_zero():
    report = _report([], n=0, n_bad=0)
    assert report.summary().splitlines() == [
        "0 rows read: 0 clean, 0 quarantined (0.0%)",
        "no problems found",
    ]
    assert not report.fatal


def test_fatal_summary_lists_errors_only_and_is_the_exception_text():
    report = _report([Problem("error", None, 1, "broken"), Problem("warning", None, 1, "w")])
    assert report.fatal_summary() == (
        # issue 12: the headline of a rejected file does not call its rows clean
        "campaign log is not usable (1 error); "
        "4 rows read: file rejected; 3 rows passed the row checks, 1 quarantined (25.0%)\n"
        "ERROR: broken"
    )
    with pytest.raises(LogValidationError) as info:
        report.raise_if_fatal()
    assert str(info.value) == report.fatal_summary() and info.value.report is report


def test_no_raise_without_errors():
    _report([Problem("quarantine", "x", 1, "q")]).raise_if_fatal()


def test_collector_joins_reasons_in_check_order():
    c = ProblemCollector(4)
    c.quarantine("a", np.array([True, False, True, False]), lambda n, _: f"a: {n}", "a bad")
    c.quarantine(
        "b",
        np.array([True, True, False, False]),
        lambda n, pos: f"b: {n} at {pos.tolist()}",
        lambda pos: [f"b bad at {p}" for p in pos],
    )
    assert c.bad.tolist() == [True, True, True, False]
    assert c.reasons(np.array([0, 1, 2])).tolist() == [
        "a bad; b bad at 0",
        "b bad at 1",
        "a bad",
    ]
    assert [(p.severity, p.column, p.count, p.message) for p in c.problems] == [
        ("quarantine", "a", 2, "a: 2"),
        ("quarantine", "b", 2, "b: 2 at [0, 1]"),
    ]


def test_collector_builds_nothing_for_a_clean_mask():
    def fail(*_):
        raise AssertionError("message built for a clean column")

    c = ProblemCollector(3)
    c.quarantine("a", np.zeros(3, dtype=bool), fail, fail)
    c.error("f", 1, "fatal")
    c.warning(None, 2, "note")
    assert [p.severity for p in c.problems] == ["error", "warning"]
    assert not c.bad.any()
