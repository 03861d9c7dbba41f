"""The timestamp check: parsing one or several formats, missing and unparsable values."""

from __future__ import annotations

import numpy as np
import pandas as pd

from engage.contract.checks.timestamps import check_timestamp, parse_timestamps
from engage.contract.report import ProblemCollector


def _check(raw: pd.Series):
    c = ProblemCollector(len(raw))
    return c, check_timestamp(c, raw, "at")


def test_datetime_column_passes_through_with_a_fresh_index():
    raw = pd.Series(pd.to_datetime(["2024-01-01", None]), index=[7, 9])
    parsed, missing = parse_timestamps(raw)
    assert list(parsed.index) == [0, 1] and missing.tolist() == [False, True]


def test_text_in_several_formats_parses():
    c, parsed = _check(pd.Series(["2024-01-05", "5 March 2024", "2024-02-03 10:30:00"]))
    assert c.problems == []
    assert parsed.tolist() == [
        pd.Timestamp("2024-01-05"),
        pd.Timestamp("2024-03-05"),
        pd.Timestamp("2024-02-03 10:30"),
    ]


def test_missing_blank_and_unparsable():
    c, parsed = _check(pd.Series(["2024-01-05", None, " ", "not a date", "2024-01-06"]))
    assert [p.message for p in c.problems] == [
        "column 'at': 2 rows have a missing value",
        "column 'at': 1 row has a timestamp that cannot be parsed (e.g. 'not a date')",
    ]
    assert c.bad.tolist() == [False, True, True, True, False]
    assert c.reasons(np.array([3])).tolist() == ["column 'at': unparsable timestamp 'not a date'"]
    assert parsed.iloc[4] == pd.Timestamp("2024-01-06")


def test_numbers_are_parsed_as_text():
    c, parsed = _check(pd.Series([20240105, 20240106]))
    assert c.problems == [] and parsed.iloc[1] == pd.Timestamp("2024-01-06")


def test_mixed_time_zones_are_read_as_utc():
    c, parsed = _check(pd.Series(["2024-01-05T10:00:00+01:00", "2024-01-05T10:00:00+02:00"]))
    assert c.problems == []
    assert parsed.iloc[0] - parsed.iloc[1] == pd.Timedelta(hours=1)


def test_nothing_parses_is_fatal():
    c, parsed = _check(pd.Series(["soon", "later", None]))
    assert parsed is None
    assert [(p.severity, p.count) for p in c.problems] == [("error", 2)]
    assert "'soon', 'later'" in c.problems[0].message and not c.bad.any()
