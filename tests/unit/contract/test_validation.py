"""Campaign-log validation against the simulated world's spec: one test per broken case."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engage.contract.spec import CampaignSpec, StyleRows, load_spec
from engage.contract.validation import (
    LogValidationError,
    Problem,
    ValidationReport,
    read_log,
    validate_file,
    validate_log,
)

STYLES = ["broadcast", "conversational", "customer_care", "thought_leadership", "community"]
MIX = ["mix_promotional", "mix_educational", "mix_conversational", "mix_visual", "mix_curated"]
N = 40


def make_log(n: int = N, seed: int = 0) -> pd.DataFrame:
    """A valid campaign log for ``simulated.yaml``: every style present, unique ids."""
    rng = np.random.default_rng(seed)
    styles = np.array(STYLES)[rng.permutation(np.arange(n) % len(STYLES))]
    mix = rng.dirichlet(np.ones(len(MIX)), size=n)
    log = pd.DataFrame(
        {
            "campaign_id": [f"c-{i:05d}" for i in range(n)],
            "started_at": pd.Timestamp("2024-01-01")
            + pd.to_timedelta(rng.integers(0, 700, n), unit="D"),
            "logged_propensity": rng.uniform(0.05, 1.0, n),
            "industry": rng.choice(["software", "news_media", "fashion_beauty"], n),
            "market": rng.choice(["b2c", "b2b"], n),
            "employees": rng.integers(1, 5000, n).astype(float),
            "innovation": rng.uniform(0, 1, n),
            "shareability": rng.uniform(0, 1, n),
            "sales_cycle_days": rng.uniform(0, 365, n),
            "price_point": rng.uniform(1, 5000, n),
            "audience_tech_savviness": rng.uniform(0, 1, n),
            "followers": rng.integers(10, 1_000_000, n).astype(float),
            "service_load": rng.uniform(0, 1, n),
            "team_hours": rng.uniform(1, 400, n),
            "goal": rng.choice(["sales", "awareness", "loyalty", "leads"], n),
            "ad_budget": rng.uniform(0, 100_000, n),
            "style": styles,
        }
    )
    for j, name in enumerate(MIX):
        log[name] = mix[:, j]
    log["posts_per_week"] = rng.uniform(1, 60, n).round(1)
    log["conversions"] = rng.normal(5, 2, n)
    log["engagement_rate"] = rng.normal(3, 1, n)
    log["follower_growth"] = rng.normal(1, 0.5, n)
    log["retention_30d"] = rng.uniform(0, 100, n)
    log["true_objective"] = rng.normal(0, 1, n)  # a passthrough column
    return log


def put(df: pd.DataFrame, column: str, rows: list[int], values: Any) -> pd.DataFrame:
    """Return a copy of ``df`` with ``values`` written at positions ``rows`` of ``column``."""
    out = df.copy()
    col = out[column].astype(object)
    col.iloc[rows] = values
    out[column] = col
    return out


def only(report: ValidationReport, severity: str, column: str | None = None) -> Problem:
    """The single problem of ``severity`` (about ``column`` if given)."""
    found = [
        p
        for p in report.problems
        if p.severity == severity and (column is None or p.column == column)
    ]
    assert len(found) == 1, report.summary()
    return found[0]


def reason_of(report: ValidationReport, row: int) -> str:
    q = report.quarantine
    return q.loc[q["_row"] == row, "_reason"].item()


def assert_nothing_lost(report: ValidationReport) -> None:
    assert len(report.clean) + len(report.quarantine) == report.n_input_rows
    assert report.quarantine["_row"].is_unique


@pytest.fixture(scope="module")
def spec() -> CampaignSpec:
    # The 40-row log has 8 rows per style: below the default min_rows_per_style (tested in
    # test_silent_acceptance.py), which these tests of other checks must not trip over.
    return load_spec().model_copy(update={"min_rows_per_style": StyleRows(warn=1, fatal=1)})


@pytest.fixture
def log() -> pd.DataFrame:
    return make_log()


# ---------------------------------------------------------------------------- valid log


def test_valid_log_has_no_problems(spec, log):
    report = validate_log(log, spec)
    assert report.problems == [], report.summary()
    assert not report.fatal
    assert len(report.clean) == N and len(report.quarantine) == 0
    assert report.n_input_rows == N
    report.raise_if_fatal()  # does not raise
    assert report.summary().splitlines()[:2] == [
        "40 rows read: 40 clean, 0 quarantined (0.0%)",
        "no problems found",
    ]


def test_clean_output_dtypes_and_order(spec, log):
    log = log.sample(frac=1.0, random_state=3).set_index(np.arange(100, 100 + N))
    # shares off by up to the tolerance are kept, then renormalised
    log["mix_curated"] = log["mix_curated"] + np.linspace(-0.009, 0.009, N).clip(
        -log["mix_curated"], None
    )
    log["employees"] = log["employees"].astype(int)
    report = validate_log(log, spec)
    assert not report.fatal, report.summary()
    clean = report.clean
    assert len(clean) == N
    assert list(clean.columns) == spec.declared_columns + ["true_objective"]
    assert isinstance(clean.index, pd.RangeIndex) and clean.index[0] == 0
    assert not any(isinstance(t, pd.CategoricalDtype) for t in clean.dtypes)
    numeric = [
        "logged_propensity",
        *(c.name for c in spec.context if c.type == "numeric"),
        *MIX,
        "posts_per_week",
        *spec.outcome_names,
    ]
    for name in numeric:
        assert clean[name].dtype == np.float64, name
    for name in ["industry", "market", "goal", "style"]:
        assert all(type(v) is str for v in clean[name]), name
    assert pd.api.types.is_datetime64_any_dtype(clean["started_at"])
    np.testing.assert_allclose(clean[MIX].sum(axis=1), 1.0, atol=1e-9, rtol=0)
    assert set(clean["style"]) == set(STYLES)


# ---------------------------------------------------------------------------- file level


def test_missing_columns_are_fatal_one_problem_each(spec, log):
    report = validate_log(log.drop(columns=["employees", "goal"]), spec)
    assert report.fatal
    errors = [p for p in report.problems if p.severity == "error"]
    assert [(p.column, p.count) for p in errors] == [("employees", 1), ("goal", 1)]
    assert "'employees'" in errors[0].message and "missing" in errors[0].message
    with pytest.raises(LogValidationError) as info:
        report.raise_if_fatal()
    assert info.value.report is report
    assert isinstance(info.value, ValueError)
    assert str(info.value).startswith("campaign log is not usable (2 errors)")
    assert "'goal'" in str(info.value) and "'employees'" in str(info.value)


def test_missing_column_hint_for_case_and_spaces(spec, log):
    report = validate_log(log.rename(columns={"market": " Market"}), spec)
    error = only(report, "error", "market")
    assert "' Market'" in error.message


def test_extra_columns_error_mode(spec, log):
    log = log.assign(notes="x", region="eu")
    report = validate_log(log, spec)
    assert report.fatal
    error = only(report, "error")
    assert error.count == 2
    assert "['notes', 'region']" in error.message
    assert "passthrough:" in error.message and "extra_columns: ignore" in error.message


def test_extra_columns_ignore_mode(spec, log):
    lenient = spec.model_copy(update={"extra_columns": "ignore"})
    report = validate_log(log.assign(notes="x"), lenient)
    assert not report.fatal, report.summary()
    warning = only(report, "warning")
    assert warning.column == "notes" and warning.count == 1
    assert "'notes'" in warning.message and "ignored" in warning.message
    assert "notes" not in report.clean.columns
    assert len(report.clean) == N


def test_duplicate_column_names_are_fatal(spec, log):
    doubled = pd.concat([log, log[["market"]]], axis=1)
    report = validate_log(doubled, spec)
    error = only(report, "error", "market")
    assert error.count == 1
    assert error.message.startswith("the file has 1 column name more than once: ['market']")


def test_empty_frame_is_fatal(spec, log):
    report = validate_log(log.iloc[:0], spec)
    assert report.fatal
    error = only(report, "error")
    assert error.column is None and error.count == 0
    assert "no data rows" in error.message
    assert len(report.clean) == 0 and len(report.quarantine) == 0


def test_header_only_csv_is_fatal(spec, log, tmp_path):
    path = tmp_path / "empty.csv"
    log.iloc[:0].to_csv(path, index=False)
    report = validate_file(path, spec)
    assert report.fatal and report.n_input_rows == 0
    assert "no data rows" in only(report, "error").message


def test_zero_byte_csv_is_fatal(spec, tmp_path):
    path = tmp_path / "zero.csv"
    path.write_text("")
    report = validate_file(path, spec)
    assert report.fatal
    # the empty file and every required column are reported at once
    errors = [p for p in report.problems if p.severity == "error"]
    assert len(errors) == 1 + len(spec.declared_columns)


def test_wrong_separator_gets_a_hint(spec, log, tmp_path):
    path = tmp_path / "semi.csv"
    log.to_csv(path, index=False, sep=";")
    report = validate_file(path, spec)
    assert report.fatal
    assert "separator" in only(report, "warning").message


# ---------------------------------------------------------------------------- types


def test_whole_numeric_column_of_text_is_fatal(spec, log):
    log = log.assign(employees=["many"] * 20 + ["few"] * 20)
    report = validate_log(log, spec)
    assert report.fatal
    error = only(report, "error", "employees")
    assert error.count == N
    assert "column 'employees' should be numeric but holds text (e.g. 'many', 'few')" in (
        error.message
    )
    # the fatal column does not also quarantine every row
    assert len(report.quarantine) == 0


def test_some_text_cells_in_numeric_column_are_quarantined(spec, log):
    log = put(log, "followers", [3, 7], ["abc", "12k"])
    report = validate_log(log, spec)
    assert not report.fatal, report.summary()
    problem = only(report, "quarantine", "followers")
    assert problem.count == 2
    assert "'followers'" in problem.message and "'abc'" in problem.message
    assert sorted(report.quarantine["_row"]) == [3, 7]
    assert reason_of(report, 3) == "column 'followers': not a number ('abc')"
    assert len(report.clean) == N - 2


def test_numbers_written_as_text_are_accepted(spec, log):
    log = log.assign(team_hours=log["team_hours"].map(lambda v: f" {v:.3f}"))
    report = validate_log(log, spec)
    assert report.problems == [], report.summary()
    assert report.clean["team_hours"].dtype == np.float64


def test_unknown_categories_are_quarantined(spec, log):
    log = put(log, "industry", [1, 5, 9], ["retail", "x", "retail"])
    report = validate_log(log, spec)
    assert not report.fatal
    problem = only(report, "quarantine", "industry")
    assert problem.count == 3
    assert "column 'industry': 3 rows have unknown categories ['retail', 'x']" in problem.message
    assert "allowed:" in problem.message
    assert reason_of(report, 5) == "column 'industry': unknown category 'x'"


def test_unknown_style_is_quarantined(spec, log):
    log = put(log, "style", [0], ["Broadcast"])
    report = validate_log(log, spec)
    problem = only(report, "quarantine", "style")
    assert problem.count == 1 and "'Broadcast'" in problem.message


def _coded_spec(outcome_type: str = "numeric") -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "coded",
            "context": [{"name": "size", "type": "numeric", "min": 0}],
            "decision": {
                "style": {"name": "kind", "type": "categorical", "values": ["a", "b"]},
                "extra": [{"name": "cat", "type": "categorical", "values": ["1", "2", "3"]}],
            },
            "outcomes": [{"name": "y", "type": outcome_type}],
            "min_rows_per_style": {"warn": 1, "fatal": 1},  # frames of a few rows
        }
    )


def test_numeric_looking_categories_match_string_values():
    spec = _coded_spec()
    frame = pd.DataFrame(
        {
            "size": [1.0, 2.0, 3.0, 4.0, 5.0],
            "kind": ["a", "b", "a", "b", "a"],
            "cat": [1.0, 2.0, 3.0, 1.5, np.nan],  # floats, as pandas reads a column with a gap
            "y": [0.0, 1.0, 2.0, 3.0, 4.0],
        }
    )
    report = validate_log(frame, spec)
    assert report.clean["cat"].tolist() == ["1", "2", "3"]
    assert [(p.column, p.count, p.message) for p in report.problems] == [
        ("cat", 1, "column 'cat': 1 row has a missing value"),
        ("cat", 1, "column 'cat': 1 row has unknown categories ['1.5'] (allowed: ['1', '2', '3'])"),
    ]
    assert "1.5" in reason_of(report, 3)
    assert reason_of(report, 4) == "column 'cat': missing value"
    ints = validate_log(frame.assign(cat=[1, 2, 3, 2, 1]), spec)
    assert ints.problems == [] and ints.clean["cat"].tolist() == ["1", "2", "3", "2", "1"]


def test_binary_outcome_must_be_0_or_1():
    spec = _coded_spec("binary")
    frame = pd.DataFrame(
        {"size": [1.0] * 4, "kind": ["a", "b", "a", "b"], "cat": ["1"] * 4, "y": [0, 1, 2, 0.5]}
    )
    report = validate_log(frame, spec)
    problem = only(report, "quarantine", "y")
    assert problem.count == 2 and "0 or 1" in problem.message
    assert sorted(report.quarantine["_row"]) == [2, 3]


# ---------------------------------------------------------------------------- values


def test_mix_not_summing_to_one_is_quarantined(spec, log):
    log = put(log, "mix_visual", [4, 6], [log["mix_visual"].iloc[4] + 0.3, 0.999])
    report = validate_log(log, spec)
    problem = only(report, "quarantine")
    assert problem.count == 2
    assert "mix_visual" in problem.column and "sum to 1" in problem.message
    total = log.loc[4, MIX].sum()
    assert reason_of(report, 4) == f"mix shares sum to {total:.6g} (must be 1 within 0.01)"


def test_negative_share_is_quarantined(spec, log):
    log = put(log, "mix_educational", [2], [-0.2])
    log = put(log, "mix_curated", [8], [1.5])
    report = validate_log(log, spec)
    negative = only(report, "quarantine", "mix_educational")
    assert negative.count == 1 and "negative share" in negative.message
    above = only(report, "quarantine", "mix_curated")
    assert above.count == 1 and "above 1" in above.message
    assert reason_of(report, 2) == "column 'mix_educational': -0.2 is a negative share"
    # a row with a bad share is not also reported for its sum
    assert len(report.problems) == 2


def test_missing_values_are_quarantined(spec, log):
    log = put(log, "innovation", [0, 10, 20], [np.nan, None, ""])
    log = put(log, "goal", [10, 30], [None, "  "])
    report = validate_log(log, spec)
    assert not report.fatal
    innovation = only(report, "quarantine", "innovation")
    assert innovation.count == 3
    assert innovation.message == "column 'innovation': 3 rows have a missing value"
    assert only(report, "quarantine", "goal").count == 2
    assert (
        reason_of(report, 10) == "column 'innovation': missing value; column 'goal': missing value"
    )
    assert sorted(report.quarantine["_row"]) == [0, 10, 20, 30]


def test_infinite_values_are_quarantined(spec, log):
    log = put(log, "conversions", [5, 6], [np.inf, -np.inf])
    report = validate_log(log, spec)
    problem = only(report, "quarantine", "conversions")
    assert problem.count == 2 and "infinite" in problem.message
    assert reason_of(report, 6) == "column 'conversions': infinite value"


def test_out_of_range_numeric_is_quarantined(spec, log):
    log = put(log, "posts_per_week", [1, 2, 3], [0.5, 61.0, 60.0])  # 60 is the bound: ok
    report = validate_log(log, spec)
    problem = only(report, "quarantine", "posts_per_week")
    assert problem.count == 2
    assert "[1, 60]" in problem.message
    assert reason_of(report, 2) == "column 'posts_per_week': 61 outside [1, 60]"
    assert 3 not in set(report.quarantine["_row"])


def test_duplicate_ids_keep_the_first(spec, log):
    log = put(log, "campaign_id", [12, 30], ["c-00003", "c-00003"])
    report = validate_log(log, spec)
    problem = only(report, "quarantine", "campaign_id")
    assert problem.count == 2 and "duplicate" in problem.message
    assert sorted(report.quarantine["_row"]) == [12, 30]
    assert reason_of(report, 30) == "duplicate id 'c-00003' (first at row 3)"
    assert "c-00003" in set(report.clean["campaign_id"])


def test_bad_propensity_is_quarantined(spec, log):
    log = put(log, "logged_propensity", [0, 1, 2, 3], [0.0, 1.5, -0.1, 1.0])  # 1.0 is fine
    report = validate_log(log, spec)
    problem = only(report, "quarantine", "logged_propensity")
    assert problem.count == 3 and "(0, 1]" in problem.message
    assert sorted(report.quarantine["_row"]) == [0, 1, 2]


def test_unparsable_timestamp_is_quarantined(spec, log):
    text = log.assign(started_at=log["started_at"].dt.strftime("%Y-%m-%d"))
    text = put(text, "started_at", [7], ["not a date"])
    report = validate_log(text, spec)
    problem = only(report, "quarantine", "started_at")
    assert problem.count == 1 and "'not a date'" in problem.message
    assert pd.api.types.is_datetime64_any_dtype(report.clean["started_at"])


def test_mixed_timestamp_formats_are_parsed(spec, log):
    text = log.assign(started_at=log["started_at"].dt.strftime("%Y-%m-%d"))
    text = put(text, "started_at", [3, 4], ["2024-02-03 10:30:00", "5 March 2024"])
    report = validate_log(text, spec)
    assert report.problems == [], report.summary()
    assert report.clean.loc[4, "started_at"] == pd.Timestamp("2024-03-05")


def test_timestamp_column_without_dates_is_fatal(spec, log):
    report = validate_log(log.assign(started_at="soon"), spec)
    error = only(report, "error", "started_at")
    assert error.count == N and "'soon'" in error.message
    assert len(report.quarantine) == 0


# ---------------------------------------------------------------------------- after quarantine


def test_style_without_rows_is_fatal(spec, log):
    log = log.assign(style=log["style"].replace({"community": "broadcast"}))
    report = validate_log(log, spec)
    assert report.fatal
    error = only(report, "error", "style")
    assert error.count == 1
    assert "['community']" in error.message and "remove unused styles" in error.message


def test_style_whose_rows_are_all_quarantined_is_fatal(spec, log):
    rows = np.flatnonzero(log["style"] == "customer_care").tolist()
    report = validate_log(put(log, "followers", rows, [np.nan] * len(rows)), spec)
    assert "['customer_care']" in only(report, "error", "style").message


def test_quarantine_fraction_too_high_is_fatal(spec, log):
    rows = list(range(21))  # 21 of 40 = 52.5% > 0.5
    report = validate_log(put(log, "innovation", rows, [2.0] * len(rows)), spec)
    assert report.fatal
    error = only(report, "error")
    assert error.count == 21 and "52.5%" in error.message
    assert "max_quarantine_fraction" in error.message
    strict = spec.model_copy(update={"max_quarantine_fraction": 0.02})
    one_bad = validate_log(put(log, "innovation", [0], [2.0]), strict)  # 2.5% > 2%
    assert one_bad.fatal and "2.5%" in only(one_bad, "error").message


def test_all_rows_bad_is_fatal(spec, log):
    report = validate_log(log.assign(market=np.nan), spec)
    assert report.fatal
    assert any("no clean rows" in p.message for p in report.problems)
    assert len(report.clean) == 0 and len(report.quarantine) == N


# ---------------------------------------------------------------------------- bookkeeping


def test_nothing_lost_and_reasons_joined(spec, log):
    log = put(log, "employees", [0, 1], [-5.0, "x"])
    log = put(log, "market", [1, 2], ["b2x", None])
    log = put(log, "campaign_id", [3], ["c-00000"])
    report = validate_log(log, spec)
    assert not report.fatal
    assert_nothing_lost(report)
    assert report.quarantine["_row"].tolist() == [0, 1, 2, 3]
    assert reason_of(report, 1) == (
        # in spec order: market comes before employees
        "column 'market': unknown category 'b2x'; column 'employees': not a number ('x')"
    )
    # quarantined rows are the raw input rows
    assert report.quarantine.loc[0, "employees"] == -5.0
    assert report.quarantine.loc[1, "employees"] == "x"
    lines = report.summary().splitlines()
    assert lines[0] == "40 rows read: 36 clean, 4 quarantined (10.0%)"
    assert sum(line.startswith("QUARANTINE: ") for line in lines) == 5


def test_quarantine_file_is_written(spec, log, tmp_path):
    source = tmp_path / "log.parquet"
    put(log, "retention_30d", [9, 11], [np.nan, np.inf]).to_parquet(source)
    out = tmp_path / "out" / "quarantine.csv"
    report = validate_file(source, spec, quarantine_path=out)
    assert out.exists()
    written = pd.read_csv(out)
    assert written["_row"].tolist() == [9, 11]
    assert written["_reason"].tolist() == [
        "column 'retention_30d': missing value",
        "column 'retention_30d': infinite value",
    ]
    assert len(written) == len(report.quarantine)


def test_no_quarantine_file_when_nothing_quarantined(spec, log, tmp_path):
    source = tmp_path / "log.csv"
    log.to_csv(source, index=False)
    out = tmp_path / "quarantine.csv"
    validate_file(source, spec, quarantine_path=out)
    assert not out.exists()


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".pq", ".txt"])
def test_csv_and_parquet_read_the_same(spec, log, tmp_path, suffix):
    path = tmp_path / f"log{suffix}"
    if suffix in (".parquet", ".pq"):
        log.to_parquet(path)
    else:
        log.to_csv(path, index=False)
    report = validate_file(path, spec)
    assert report.problems == [], report.summary()
    expected = validate_log(log, spec).clean
    pd.testing.assert_frame_equal(report.clean, expected, check_dtype=False)


def test_read_log_missing_file(spec, tmp_path):
    with pytest.raises(FileNotFoundError, match="campaign log not found"):
        read_log(tmp_path / "nope.csv", spec)


def test_read_log_unknown_format(spec, tmp_path):
    path = tmp_path / "log.xlsx"
    path.write_bytes(b"x")
    with pytest.raises(ValueError, match=r"\.xlsx"):
        read_log(path, spec)


def test_read_log_uses_spec_separator(tmp_path):
    spec = CampaignSpec.model_validate({**_coded_spec().model_dump(), "read": {"sep": ";"}})
    path = Path(tmp_path / "coded.csv")
    path.write_text("size;kind;cat;y\r\n1;a;2;0.5\r\n2;b;3;1.5\r\n")
    report = validate_file(path, spec)
    assert report.problems == [], report.summary()
    assert report.clean["cat"].tolist() == ["2", "3"]
