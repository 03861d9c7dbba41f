"""Checks after quarantine: clean rows left, every style covered, quarantine fraction."""

from __future__ import annotations

import pytest

from engage.contract.checks.coverage import (
    check_clean_rows_left,
    check_quarantine_fraction,
    check_styles_covered,
)
from engage.contract.report import ProblemCollector
from engage.contract.spec import CampaignSpec


@pytest.fixture(scope="module")
def spec() -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "tiny",
            "context": [{"name": "size", "type": "numeric"}],
            "decision": {
                "style": {"name": "kind", "type": "categorical", "values": ["a", "b", "c"]}
            },
            "outcomes": [{"name": "y"}],
            "max_quarantine_fraction": 0.25,
        }
    )


def test_no_clean_rows():
    c = ProblemCollector(3)
    check_clean_rows_left(c, 3, 1)
    assert c.problems == []
    check_clean_rows_left(c, 3, 0)
    assert [(p.severity, p.count, p.message) for p in c.problems] == [
        ("error", 3, "no clean rows left: all 3 rows were quarantined")
    ]


def test_styles_without_clean_rows(spec):
    c = ProblemCollector(2)
    check_styles_covered(c, ["a", "b", "c", "a"], spec)
    assert c.problems == []
    check_styles_covered(c, ["a"], spec)
    check_styles_covered(c, ["a", "b"], spec)
    assert [p.message.split(";")[0] for p in c.problems] == [
        "column 'kind': declared 2 styles ['b', 'c'] have no clean rows",
        "column 'kind': declared 1 style ['c'] has no clean rows",
    ]
    assert [(p.column, p.count) for p in c.problems] == [("kind", 2), ("kind", 1)]


def test_quarantine_fraction(spec):
    c = ProblemCollector(4)
    check_quarantine_fraction(c, 4, 1, spec)  # 25% is the limit itself
    assert c.problems == []
    check_quarantine_fraction(c, 4, 2, spec)
    assert c.problems[0].message == (
        "2 of 4 rows (50.0%) were quarantined, more than the spec's "
        "max_quarantine_fraction 0.25 (25%)"
    )
