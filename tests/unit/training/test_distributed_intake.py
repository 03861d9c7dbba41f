"""The pieces of ``engage train --dask``'s validate stage that run without a cluster: finding
the parts of a log, validating a partition, and aggregating the partitions' reports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engage.contract.report import LogValidationError
from engage.contract.spec import load_spec
from engage.contract.validation import validate_log
from engage.simulation.world import SimulatedWorld
from engage.training.distributed.intake import (
    aggregate_reports,
    log_parts,
    quarantine_sample_per_partition,
    refuse_untrainable,
    validate_partition,
)
from engage.training.settings import InputSettings
from engage.training.split import TrainingError


@pytest.fixture(scope="module")
def spec():
    return load_spec(None)


@pytest.fixture(scope="module")
def log() -> pd.DataFrame:
    return SimulatedWorld("hard").simulate(600, seed=1)


def broken(log: pd.DataFrame) -> pd.DataFrame:
    """``log`` with 7 missing conversions and 3 unknown industries."""
    bad = log.copy()
    bad.loc[bad.index[:7], "conversions"] = np.nan
    bad["industry"] = bad["industry"].astype(object)
    bad.loc[bad.index[100:103], "industry"] = "space_tourism"
    return bad


def chunks(frame: pd.DataFrame, parts: int) -> list[pd.DataFrame]:
    return [frame.iloc[rows] for rows in np.array_split(np.arange(len(frame)), parts)]


def summaries(frame: pd.DataFrame, spec, parts: int, cap: int = 100) -> list[dict]:
    return [
        validate_partition(chunk.reset_index(drop=True), i, spec, cap)["summary"]
        for i, chunk in enumerate(chunks(frame, parts))
    ]


def test_parts_of_a_folder_a_glob_and_a_file(tmp_path: Path) -> None:
    for name in ["b.parquet", "a.parquet", "sub/c.pq"]:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not a part")
    assert [p.name for p in log_parts(tmp_path)] == ["a.parquet", "b.parquet", "c.pq"]
    assert [p.name for p in log_parts(tmp_path / "*.parquet")] == ["a.parquet", "b.parquet"]
    assert log_parts(tmp_path / "a.parquet") == [tmp_path / "a.parquet"]


def test_parts_refuse_what_is_not_a_parquet_log(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="not found"):
        log_parts(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="no Parquet file"):
        log_parts(tmp_path)
    (tmp_path / "x.csv").write_text("a\n1\n")
    with pytest.raises(ValueError, match=r"1 of the 1 files .* not \.parquet"):
        log_parts(tmp_path / "*.csv")


def test_a_partition_keeps_its_clean_rows_and_summarises_the_rest(log, spec) -> None:
    result = validate_partition(broken(log), 3, spec, sample_rows=5)
    s = result["summary"]
    assert len(result["clean"]) == s["n_clean"] == len(log) - 10
    assert s["n_quarantined"] == 10 and s["n"] == len(log)
    assert len(s["quarantine"]) == 5 and set(s["quarantine"]["_partition"]) == {3}
    assert sum(s["reasons"].values()) == 10
    assert sum(s["styles"].values()) == s["n_clean"]


def test_aggregated_counts_equal_validating_the_whole_log(log, spec) -> None:
    bad = broken(log)
    whole = validate_log(bad, spec)
    report = aggregate_reports(summaries(bad, spec, 3), spec, quarantine_cap=1_000)
    assert (report.n_input_rows, report.n_clean, report.n_quarantined) == (
        whole.n_input_rows,
        len(whole.clean),
        len(whole.quarantine),
    )
    assert report.quarantined_share == pytest.approx(whole.quarantined_share)
    assert not report.fatal and report.partitions == 3
    quarantine = {p.column: p.count for p in report.problems if p.severity == "quarantine"}
    assert quarantine == {"conversions": 7, "industry": 3}
    assert len(report.quarantine) == 10
    assert report.quarantine_lines()[0] == f"quarantined 10 of {len(log):,} rows (1.7%):"
    assert "in 3 partitions: 590 clean, 10 quarantined" in report.summary()


def test_the_whole_log_checks_run_on_the_totals(log, spec) -> None:
    one_style = log[log["style"] == "broadcast"]
    report = aggregate_reports(summaries(one_style, spec, 2), spec, quarantine_cap=10)
    assert report.fatal
    assert any("no clean rows" in p.message for p in report.problems if p.severity == "error")
    with pytest.raises(LogValidationError):
        refuse_untrainable(report, spec, InputSettings(data=Path("x")))


def test_a_problem_of_every_partition_is_reported_once_with_its_total(log, spec) -> None:
    missing = log.drop(columns=["ad_budget"])
    report = aggregate_reports(summaries(missing, spec, 3), spec, quarantine_cap=10)
    errors = [p for p in report.problems if p.severity == "error" and p.column == "ad_budget"]
    assert len(errors) == 1 and "[in 3 of 3 partitions" in errors[0].message


def test_training_refuses_a_quarantine_share_over_its_limit(log, spec) -> None:
    report = aggregate_reports(summaries(broken(log), spec, 2), spec, quarantine_cap=10)
    with pytest.raises(
        TrainingError, match=r"10 of 600 rows \(1\.7%\) were quarantined.*--allow-quarantine 0\.02"
    ):
        refuse_untrainable(report, spec, InputSettings(data=Path("x"), max_quarantine_share=0.01))
    refuse_untrainable(report, spec, InputSettings(data=Path("x")))  # within the 5% default


def test_each_partition_sends_its_share_of_the_quarantine_sample() -> None:
    assert quarantine_sample_per_partition(10_000, 4) == 2_500
    assert quarantine_sample_per_partition(10_000, 1_000) == 100  # at least 100 each
