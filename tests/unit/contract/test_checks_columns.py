"""File-level checks: repeated, missing and undeclared columns, and the clean frame's columns."""

from __future__ import annotations

import pandas as pd
import pytest

from engage.contract.checks.columns import (
    check_required_columns,
    check_undeclared_columns,
    clean_columns,
    drop_repeated_columns,
)
from engage.contract.report import ProblemCollector
from engage.contract.spec import CampaignSpec


@pytest.fixture(scope="module")
def spec() -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "tiny",
            "id": "id",
            "context": [{"name": "size", "type": "numeric"}],
            "decision": {"style": {"name": "kind", "type": "categorical", "values": ["a", "b"]}},
            "outcomes": [{"name": "y"}],
            "passthrough": ["note"],
        }
    )


def _messages(c: ProblemCollector) -> list[tuple[str, str | None, int, str]]:
    return [(p.severity, p.column, p.count, p.message) for p in c.problems]


def test_repeated_columns_keep_the_first():
    df = pd.DataFrame([[1, 2, 3, 4, 5]], columns=["a", "b", "a", "c", "b"])
    c = ProblemCollector(1)
    out = drop_repeated_columns(c, df)
    assert list(out.columns) == ["a", "b", "c"] and out["a"].item() == 1
    assert _messages(c) == [
        (
            "error",
            None,
            2,
            "the file has 2 column names more than once: ['a', 'b']; "
            "only the first column of each name is checked",
        )
    ]
    c = ProblemCollector(1)
    assert drop_repeated_columns(c, out) is out and c.problems == []


def test_missing_columns_with_hint(spec):
    c = ProblemCollector(0)
    check_required_columns(c, ["id", " Size", "kind", "note"], spec)
    assert _messages(c) == [
        (
            "error",
            "size",
            1,
            "required column 'size' is missing from the file "
            "(the file has ' Size': check spelling, case and spaces)",
        ),
        ("error", "y", 1, "required column 'y' is missing from the file"),
    ]


def test_single_column_suggests_the_separator(spec):
    c = ProblemCollector(0)
    check_required_columns(c, ["id;size;kind;y"], spec)
    assert _messages(c)[-1] == (
        "warning",
        None,
        1,
        "the file has a single column 'id;size;kind;y': is the separator right? "
        "(the spec's read.sep is ',')",
    )


def test_undeclared_columns_error_or_warning(spec):
    columns = ["id", "size", "kind", "y", "note", "extra"]
    c = ProblemCollector(0)
    check_undeclared_columns(c, columns, spec)
    assert _messages(c) == [
        (
            "error",
            "extra",
            1,
            "1 column not declared in the spec: ['extra']; "
            "declare them under `passthrough:` or set `extra_columns: ignore`",
        )
    ]
    c = ProblemCollector(0)
    check_undeclared_columns(
        c, [*columns, "more"], spec.model_copy(update={"extra_columns": "ignore"})
    )
    assert _messages(c) == [
        (
            "warning",
            None,
            2,
            "2 columns not declared in the spec ignored and left out of the clean data: "
            "['extra', 'more']",
        )
    ]
    c = ProblemCollector(0)
    check_undeclared_columns(c, columns[:5], spec)
    assert c.problems == []


def test_clean_columns_follow_the_spec_order(spec):
    assert clean_columns(["note", "y", "extra", "kind", "id"], spec) == ["id", "kind", "y", "note"]
