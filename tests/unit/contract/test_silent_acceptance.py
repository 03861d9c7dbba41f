"""Nothing is accepted silently (issue 12, defect 10): thin styles, silent type conversions,
and the headline of a rejected file."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.contract.checks.coverage import check_style_rows
from engage.contract.report import ProblemCollector
from engage.contract.spec import CampaignSpec
from engage.contract.validation import validate_file, validate_log


def spec_with(**extra) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "tiny",
            "context": [{"name": "share", "type": "numeric", "min": 0, "max": 1}],
            "decision": {
                "style": {"name": "kind", "type": "categorical", "values": ["a", "b", "c"]}
            },
            "outcomes": [{"name": "y"}],
            **extra,
        }
    )


def log_with_counts(a: int, b: int, c: int, seed: int = 0) -> pd.DataFrame:
    n = a + b + c
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "share": rng.uniform(0, 1, n),
            "kind": ["a"] * a + ["b"] * b + ["c"] * c,
            "y": rng.normal(5, 1, n),
        }
    )


# ---------------------------------------------------------------------------- rows per style


def test_a_style_with_three_rows_is_fatal():
    report = validate_log(log_with_counts(1000, 997, 3), spec_with())
    assert report.fatal
    (error,) = [p for p in report.problems if p.severity == "error"]
    assert (error.column, error.count) == ("kind", 3)
    assert error.message.startswith(
        "column 'kind': style 'c' has 3 clean rows, fewer than min_rows_per_style.fatal = 5"
    )


def test_thin_styles_warn_between_the_floor_and_the_threshold():
    report = validate_log(log_with_counts(1000, 12, 29), spec_with())
    assert not report.fatal
    (warning,) = report.problems
    assert (warning.severity, warning.column, warning.count) == ("warning", "kind", 41)
    assert "styles 'b' (12 clean rows), 'c' (29 clean rows) have fewer than" in warning.message
    assert "min_rows_per_style.warn = 30" in warning.message


def test_row_thresholds_are_configurable_and_ordered():
    relaxed = spec_with(min_rows_per_style={"warn": 3, "fatal": 1})
    assert validate_log(log_with_counts(10, 10, 3), relaxed).problems == []
    with pytest.raises(ValueError, match="fatal 10 > warn 5"):
        spec_with(min_rows_per_style={"warn": 5, "fatal": 10})


def test_rows_per_style_counts_clean_rows_only():
    log = log_with_counts(100, 100, 40)
    log.loc[log.index[-38:], "share"] = 2.0  # 38 of style c's 40 rows out of bounds
    report = validate_log(log, spec_with())
    errors = [p for p in report.problems if p.severity == "error"]
    assert [(p.column, p.count) for p in errors] == [("kind", 2)]


def test_a_style_without_rows_is_reported_once():
    c = ProblemCollector(5)
    check_style_rows(c, ["a"] * 40 + ["b"] * 40, spec_with())  # "c" has none: not this check's
    assert c.problems == []


# ---------------------------------------------------------------------------- conversions


def test_booleans_in_a_numeric_column_warn():
    log = log_with_counts(40, 40, 40).assign(share=lambda d: np.arange(len(d)) % 3 == 0)
    report = validate_log(log, spec_with())
    (warning,) = [p for p in report.problems if p.column == "share"]
    assert (warning.severity, warning.count) == ("warning", 120)
    assert "column 'share': 120 rows have a boolean (True/False) read as 1/0" in warning.message
    assert report.clean["share"].sum() == 40


def test_booleans_mixed_with_numbers_warn_for_the_boolean_cells():
    log = log_with_counts(40, 40, 40)
    share = log["share"].astype(object)
    share.iloc[[0, 5]] = [True, False]
    report = validate_log(log.assign(share=share), spec_with())
    found = [(p.severity, p.count) for p in report.problems if p.column == "share"]
    # pandas reads the booleans as 1/0 (a warning) or refuses them (quarantined): never silent
    assert found in ([("warning", 2)], [("quarantine", 2)]), report.summary()


def test_numbers_stored_as_text_in_parquet_warn(tmp_path):
    log = log_with_counts(40, 40, 40)
    log["y"] = log["y"].map(lambda v: f"{v:.4f}")
    parquet, csv = tmp_path / "log.parquet", tmp_path / "log.csv"
    log.to_parquet(parquet)
    log.to_csv(csv, index=False)
    report = validate_file(parquet, spec_with())
    (warning,) = [p for p in report.problems if p.column == "y"]
    assert (warning.severity, warning.count) == ("warning", 120)
    assert "column 'y': 120 rows have a number stored as text" in warning.message
    assert report.clean["y"].dtype == np.float64
    # a CSV has no types: every number arrives as text, which is not worth a warning
    assert validate_file(csv, spec_with()).problems == []


def test_numbers_in_a_typed_column_do_not_warn(tmp_path):
    path = tmp_path / "log.parquet"
    log_with_counts(40, 40, 40).to_parquet(path)
    assert validate_file(path, spec_with()).problems == []


# ---------------------------------------------------------------------------- headline


def test_the_headline_of_a_rejected_file_does_not_call_rows_clean():
    report = validate_log(log_with_counts(1000, 997, 3), spec_with())
    headline = report.summary().splitlines()[0]
    assert "2000 clean" not in headline
    assert (
        headline
        == "2000 rows read: file rejected; 2000 rows passed the row checks, 0 quarantined (0.0%)"
    )
    assert "file rejected" in str(report.fatal_summary())
