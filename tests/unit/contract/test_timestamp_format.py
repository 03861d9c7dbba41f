"""Day-first dates (issue #30 item 3): a declared timestamp format, and day/month-order dates
refused without one instead of read month-first from the first value's guess."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engage.contract.checks.timestamps import check_timestamp
from engage.contract.report import ProblemCollector
from engage.contract.spec import CampaignSpec, SpecError, default_spec_path, load_spec
from engage.contract.validation import LogValidationError, validate_file, validate_log
from tests.unit.contract.test_validation import make_log

N = 300


def _check(values: list[object], fmt: str | None = None):
    c = ProblemCollector(len(values))
    return c, check_timestamp(c, pd.Series(values, dtype=object), "posted", fmt)


def _day_first_log(n: int = N) -> pd.DataFrame:
    """The simulated log with its dates written DD/MM/YYYY, the first one 01/01/2025."""
    log = make_log(n)
    dates = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(n), unit="D")
    return log.assign(started_at=dates.strftime("%d/%m/%Y"))


def _spec_file(tmp_path: Path, timestamp: str) -> Path:
    text = default_spec_path().read_text()
    assert "\ntimestamp: started_at\n" in text
    path = tmp_path / "spec.yaml"
    path.write_text(text.replace("\ntimestamp: started_at\n", f"\ntimestamp: {timestamp}\n"))
    return path


# ---- without a declared format ---------------------------------------------------------


def test_day_first_log_without_format_is_refused_naming_column_count_and_key():
    log = _day_first_log()
    day, month = log["started_at"].str[:2].astype(int), log["started_at"].str[3:5].astype(int)
    ambiguous = int(((day <= 12) & (month <= 12) & (day != month)).sum())
    report = validate_log(log, load_spec())
    errors = [p for p in report.problems if p.severity == "error"]
    assert report.fatal and len(errors) == 1, report.summary()
    error = errors[0]
    assert error.column == "started_at" and error.count == ambiguous
    assert error.message.startswith(
        f"column 'started_at': {ambiguous} of {N} values written day/month/year or "
        "month/day/year read as two different dates (e.g. '02/01/2025': 2 January 2025 or "
        "1 February 2025)"
    )
    assert "can only be day-first (e.g. '13/01/2025')" in error.message
    assert "timestamp: {column: started_at, format: '%d/%m/%Y'}" in error.message


def test_unambiguous_day_month_dates_are_refused_too():
    c, parsed = _check(["25/03/2025 10:00", "26/03/2025 11:30", None])
    assert parsed is None
    [problem] = c.problems
    assert (problem.severity, problem.column, problem.count) == ("error", "posted", 2)
    assert "2 can only be day-first" in problem.message
    assert "format: '%d/%m/%Y %H:%M'" in problem.message


def test_a_mix_of_orders_names_both():
    c, parsed = _check(["13/01/2025", "01/13/2025", "2025-01-13"])
    assert parsed is None
    [problem] = c.problems
    assert "1 can only be day-first (e.g. '13/01/2025')" in problem.message
    assert "1 can only be month-first (e.g. '01/13/2025')" in problem.message


def test_iso_and_named_month_dates_are_unaffected():
    c, parsed = _check(["2025-03-04", "2025-03-05T10:30:00", "5 March 2025", "20250306"])
    assert c.problems == []
    assert parsed is not None
    assert parsed.tolist() == [
        pd.Timestamp("2025-03-04"),
        pd.Timestamp("2025-03-05 10:30"),
        pd.Timestamp("2025-03-05"),
        pd.Timestamp("2025-03-06"),
    ]


# ---- with a declared format ------------------------------------------------------------


def test_declared_day_first_format_reads_every_date_right(tmp_path):
    log = _day_first_log()
    path = tmp_path / "log.csv"
    log.to_csv(path, index=False)
    spec = load_spec(_spec_file(tmp_path, '{column: started_at, format: "%d/%m/%Y"}'))
    assert spec.timestamp == "started_at" and spec.timestamp_format == "%d/%m/%Y"
    report = validate_file(path, spec)
    assert not report.fatal and len(report.quarantine) == 0, report.summary()
    clean = report.clean["started_at"]
    assert clean.iloc[92] == pd.Timestamp("2025-04-03")  # written 03/04/2025
    expected = pd.Timestamp("2025-01-01") + pd.to_timedelta(np.arange(N), unit="D")
    assert (clean.to_numpy() == expected.to_numpy()).all()


def test_same_log_without_the_format_raises_from_validate_file(tmp_path):
    path = tmp_path / "log.csv"
    _day_first_log().to_csv(path, index=False)
    with pytest.raises(LogValidationError, match="column 'started_at'"):
        validate_file(path, load_spec()).raise_if_fatal()


def test_rows_not_matching_the_declared_format_are_quarantined_with_a_reason():
    c, parsed = _check(["03/04/2025", "2025-04-04", "31/02/2025", None], "%d/%m/%Y")
    assert parsed is not None and parsed.iloc[0] == pd.Timestamp("2025-04-03")
    assert [(p.severity, p.count) for p in c.problems] == [("quarantine", 1), ("quarantine", 2)]
    assert c.problems[1].message == (
        "column 'posted': 2 rows have a timestamp that does not match the declared format "
        "'%d/%m/%Y' (e.g. '2025-04-04', '31/02/2025')"
    )
    assert c.reasons(np.array([1])).tolist() == [
        "column 'posted': timestamp '2025-04-04' does not match the declared format '%d/%m/%Y'"
    ]


def test_no_value_matching_the_declared_format_is_fatal():
    c, parsed = _check(["2025-04-04", "2025-04-05"], "%d/%m/%Y")
    assert parsed is None
    [problem] = c.problems
    assert problem.severity == "error" and "declared format '%d/%m/%Y'" in problem.message


def test_iso8601_named_format():
    c, parsed = _check(["2025-03-04", "2025-03-04T10:00:00", "04/03/2025"], "ISO8601")
    assert parsed is not None and parsed.iloc[1] == pd.Timestamp("2025-03-04 10:00")
    assert [p.count for p in c.problems] == [1] and "'ISO8601'" in c.problems[0].message


# ---- the spec --------------------------------------------------------------------------


def test_spec_forms_and_dump(tmp_path):
    spec = load_spec(_spec_file(tmp_path, "{column: started_at, format: iso 8601}"))
    assert spec.timestamp_format == "ISO8601"
    dumped = spec.model_dump(mode="json")
    assert dumped["timestamp"] == "started_at" and dumped["timestamp_format"] == "ISO8601"
    assert CampaignSpec.model_validate(dumped) == spec  # the stored form loads back


def test_bundled_spec_dumps_and_fingerprints_as_before():
    spec = load_spec()
    assert spec.timestamp_format is None
    assert "timestamp_format" not in spec.model_dump(mode="json")
    assert spec.fingerprint == "f2ebdf9dcdc32bdd"


@pytest.mark.parametrize(
    ("timestamp", "message"),
    [
        ('{column: started_at, format: "%Q"}', "does not read back"),
        ("{column: started_at, format: mixed}", "is not ISO8601 or a strptime format"),
        ('{column: started_at, fmt: "%d/%m/%Y"}', "unknown keys: ['fmt']"),
        ('{format: "%d/%m/%Y"}', "column is missing"),
    ],
)
def test_bad_declarations_are_spec_errors(tmp_path, timestamp, message):
    with pytest.raises(SpecError, match=message.replace("[", r"\[").replace("(", r"\(")):
        load_spec(_spec_file(tmp_path, timestamp))


def test_format_without_timestamp_column_is_refused():
    raw = load_spec().model_dump(mode="json")
    raw.pop("timestamp")
    raw["timestamp_format"] = "%d/%m/%Y"
    with pytest.raises(ValueError, match="declares no timestamp column"):
        CampaignSpec.model_validate(raw)


# ---- the distributed intake validates each partition with the same check ----------------


def test_distributed_partitions_refuse_or_read_day_first_dates():
    from engage.training.distributed.intake import aggregate_reports, validate_partition

    log = _day_first_log()
    parts = [log.iloc[:150].reset_index(drop=True), log.iloc[150:].reset_index(drop=True)]
    spec = load_spec()
    refused = aggregate_reports(
        [validate_partition(p, i, spec, 5)["summary"] for i, p in enumerate(parts)], spec, 10
    )
    errors = [p for p in refused.problems if p.severity == "error"]
    assert refused.fatal and errors[0].column == "started_at", refused.summary()
    declared = spec.model_copy(update={"timestamp_format": "%d/%m/%Y"})
    results = [validate_partition(p, i, declared, 5) for i, p in enumerate(parts)]
    assert not aggregate_reports([r["summary"] for r in results], declared, 10).fatal
    assert results[0]["clean"]["started_at"].iloc[92] == pd.Timestamp("2025-04-03")


# ---- decisions export: the exported pair validates whatever format the log was in -------


def test_decisions_export_of_a_day_first_spec_declares_iso8601(tmp_path):
    from engage.decisions.export import export_spec, to_frame
    from tests.unit.decisions.test_decision_store import record

    spec = load_spec(_spec_file(tmp_path, '{column: started_at, format: "%d/%m/%Y"}'))
    outcomes = {"conversions": 1.0, "engagement_rate": 2.0, "follower_growth": 0.5}
    recs = [record(pd.Timestamp("2026-03-04 10:30").to_pydatetime()) for _ in range(3)]
    path = tmp_path / "decisions.csv"
    to_frame(spec, [(r, {**outcomes, "retention_30d": 40.0}) for r in recs]).to_csv(path)
    exported = export_spec(spec)
    assert exported.timestamp_format == "ISO8601"
    report = validate_log(pd.read_csv(path, index_col=0), exported, partial=True)
    assert not [p for p in report.problems if p.column == "started_at"], report.summary()
    assert report.clean["started_at"].iloc[0].month == 3
