"""The Facebook metrics example spec validates the real UCI file beside the repo."""

from __future__ import annotations

from pathlib import Path

import pytest

from engage.contract.spec import load_spec
from engage.contract.validation import validate_file

REPO = Path(__file__).resolve().parents[3]
SPEC = REPO / "examples" / "facebook_metrics.yaml"
DATA = REPO / ".." / "shared" / "datasets" / "facebook_metrics" / "dataset_Facebook.csv"


@pytest.fixture(scope="module")
def report():
    if not DATA.exists():
        pytest.skip(
            f"Facebook metrics dataset not found at {DATA.resolve()} (kept beside the repo)"
        )
    return validate_file(DATA, load_spec(SPEC))


def test_spec_loads():
    spec = load_spec(SPEC)
    assert spec.name == "facebook_metrics"
    assert spec.read.sep == ";"
    assert spec.id is None and spec.timestamp is None and spec.propensity is None
    assert spec.styles == ["Photo", "Status", "Link", "Video"]
    assert spec.mix_columns == []
    assert spec.outcome_weights() == {
        "Lifetime Engaged Users": 1.0,
        "Lifetime Post Total Reach": 0.02,
        "Total Interactions": 0.5,
    }


def test_real_file_validates(report):
    assert not report.fatal, report.summary()
    assert report.n_input_rows == 500
    assert len(report.clean) == 499


def test_only_the_empty_paid_row_is_quarantined(report):
    assert [(p.severity, p.column, p.count) for p in report.problems] == [("quarantine", "Paid", 1)]
    assert len(report.quarantine) == 1
    assert report.quarantine["_row"].item() == 499  # the last post
    assert report.quarantine["_reason"].item() == "column 'Paid': missing value"


def test_clean_rows(report):
    clean = report.clean
    assert set(clean["Type"]) == {"Photo", "Status", "Link", "Video"}
    assert set(clean["Category"]) == {"1", "2", "3"}
    assert set(clean["Paid"]) == {"0", "1"}
    # passthrough columns are carried, empty cells included
    assert {"comment", "like", "share"} <= set(clean.columns)
    assert clean["share"].isna().sum() == 4
