"""Input limits (issue 12, defect 8): size limits, the early stop on bad first rows, and the
capped quarantine file."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engage.contract.limits import InputLimitError, InputLimits
from engage.contract.quarantine import sidecar_path
from engage.contract.readers import read_log
from engage.contract.spec import CampaignSpec
from engage.contract.validation import validate_file


@pytest.fixture(scope="module")
def spec() -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "tiny",
            "timestamp": "at",
            "context": [{"name": "size", "type": "numeric", "min": 0}],
            "decision": {"style": {"name": "kind", "type": "categorical", "values": ["a", "b"]}},
            "outcomes": [{"name": "y"}],
        }
    )


def make_log(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "at": pd.Timestamp("2024-01-01") + pd.to_timedelta(np.arange(n), unit="h"),
            "size": rng.uniform(1, 100, n),
            "kind": np.where(np.arange(n) % 2 == 0, "a", "b"),
            "y": rng.normal(5, 1, n),
        }
    )


def test_a_file_over_the_byte_limit_is_refused_before_reading(spec, tmp_path):
    path = tmp_path / "log.csv"
    make_log(200).to_csv(path, index=False)
    size = path.stat().st_size
    limits = InputLimits(max_bytes=1000, names={"max_bytes": "ENGAGE_TRAIN_MAX_INPUT_BYTES"})
    with pytest.raises(InputLimitError) as err:
        validate_file(path, spec, limits=limits)
    message = str(err.value)
    assert f"is {size:,} bytes, more than the limit of 1,000 bytes" in message
    assert "ENGAGE_TRAIN_MAX_INPUT_BYTES" in message
    assert isinstance(err.value, ValueError)  # the CLI's exit-1 path


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_over_the_row_limit_is_refused(spec, tmp_path, suffix):
    path = tmp_path / f"log{suffix}"
    log = make_log(300)
    log.to_parquet(path) if suffix == ".parquet" else log.to_csv(path, index=False)
    with pytest.raises(InputLimitError, match=r"more than 250 data rows, the limit \(max_rows\)"):
        validate_file(path, spec, limits=InputLimits(max_rows=250, probe_rows=100))
    assert validate_file(path, spec, limits=InputLimits(max_rows=300)).n_input_rows == 300


def test_mostly_bad_first_rows_stop_validation_early(spec, tmp_path):
    log = make_log(5000)
    log["kind"] = log["kind"].astype(object)
    log.loc[:4000, "kind"] = "zz"  # garbage at the top of the file
    log.loc[:2000, "size"] = -1.0
    path = tmp_path / "garbage.csv"
    log.to_csv(path, index=False)
    report = validate_file(path, spec, limits=InputLimits(probe_rows=500))
    assert report.fatal and report.n_input_rows == 500  # the rest was never validated
    (stop,) = [p for p in report.problems if p.message.startswith("stopped")]
    assert stop.count == 500
    assert (
        "stopped after the first 500 rows, without reading the rest of the file: " in stop.message
    )
    assert "500 of them (100.0%) are bad, more than 50% (probe_max_bad_share)" in stop.message
    # the top reasons name their column and count
    assert "column 'kind': 500 rows have unknown categories ['zz']" in stop.message
    assert "column 'size': 500 rows have a value outside [0, inf]" in stop.message


def test_an_unusable_probe_stops_validation_early(spec, tmp_path):
    path = tmp_path / "renamed.csv"
    make_log(3000).rename(columns={"size": "Size"}).to_csv(path, index=False)
    report = validate_file(path, spec, limits=InputLimits(probe_rows=100))
    assert report.fatal and report.n_input_rows == 100
    assert any("required column 'size' is missing" in p.message for p in report.problems)
    assert any("make the log unusable" in p.message for p in report.problems)


def test_good_first_rows_let_the_whole_file_be_validated(spec, tmp_path):
    log = make_log(3000)
    log["kind"] = np.where(np.arange(3000) < 2000, "a", log["kind"])  # "b" appears only later
    log.loc[2500, "kind"] = "zz"
    path = tmp_path / "log.parquet"
    log.to_parquet(path)
    report = validate_file(path, spec, limits=InputLimits(probe_rows=1000))
    assert not report.fatal, report.summary()
    assert report.n_input_rows == 3000 and report.quarantine["_row"].tolist() == [2500]


def test_the_quarantine_file_is_capped_with_a_count_of_the_rest(spec, tmp_path):
    log = make_log(400)
    log.loc[log.index[::4], "y"] = np.nan  # 100 bad rows
    path, out = tmp_path / "log.csv", tmp_path / "q.csv"
    log.to_csv(path, index=False)
    limits = InputLimits(max_quarantine_written=30)
    report = validate_file(path, spec, quarantine_path=out, limits=limits)
    assert len(report.quarantine) == 100  # the report still holds every row
    assert len(pd.read_csv(out)) == 30
    note = json.loads(sidecar_path(out).read_text())
    assert note == {
        "quarantine_file": "q.csv",
        "rows_quarantined": 100,
        "rows_written": 30,
        "rows_not_written": 70,
        "limit": "max_quarantine_written",
    }
    (warning,) = [p for p in report.problems if p.severity == "warning"]
    assert warning.count == 70
    assert "holds the first 30 of 100 quarantined rows; 70 were not written" in warning.message
    # a run under the cap removes the stale note
    validate_file(path, spec, quarantine_path=out)
    assert len(pd.read_csv(out)) == 100 and not sidecar_path(out).exists()


def test_parquet_head_reads_like_the_whole_file(spec, tmp_path):
    log = make_log(1000).assign(label=lambda d: d["kind"] + "-x")
    path = tmp_path / "log.parquet"
    log.to_parquet(path, row_group_size=128)
    head = read_log(path, spec, nrows=300)
    whole = pd.read_parquet(path)
    pd.testing.assert_frame_equal(head, whole.iloc[:300])


def test_limits_must_be_positive():
    with pytest.raises(ValueError, match="positive"):
        InputLimits(max_rows=0)
    with pytest.raises(ValueError, match="probe_max_bad_share"):
        InputLimits(probe_max_bad_share=0)
