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


def test_example_specs_name_no_absolute_machine_path():
    """A spec is read on other machines: its comments point relative to the repository."""
    for path in (REPO / "examples").glob("*.yaml"):
        text = path.read_text()
        for root in ("/work/", "/home/", "/Users/", "/tmp/"):
            assert root not in text, f"{path.name} names {root}"


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
    assert len(report.clean) == 498


def test_the_empty_paid_row_and_the_viral_outlier_are_quarantined(report):
    # issue 12 changed this file's verdict: the post with 6,334 interactions (52x the median,
    # 39 inter-quartile ranges above the upper quartile) is an outlier by the default rule, and
    # Link (22 posts) and Video (7) are below min_rows_per_style.warn
    assert [(p.severity, p.column, p.count) for p in report.problems] == [
        ("quarantine", "Paid", 1),
        ("quarantine", "Total Interactions", 1),
        ("warning", "Type", 29),
    ]
    assert report.quarantine["_row"].tolist() == [244, 499]  # 499: the last post
    assert report.quarantine["_reason"].tolist()[1] == "column 'Paid': missing value"
    assert (
        report.quarantine["_reason"]
        .tolist()[0]
        .startswith("column 'Total Interactions': outlier 6334 outside [")
    )
    assert "styles 'Link' (22 clean rows), 'Video' (7 clean rows)" in report.problems[2].message


def test_clean_rows(report):
    clean = report.clean
    assert set(clean["Type"]) == {"Photo", "Status", "Link", "Video"}
    assert set(clean["Category"]) == {"1", "2", "3"}
    assert set(clean["Paid"]) == {"0", "1"}
    # passthrough columns are carried, empty cells included
    assert {"comment", "like", "share"} <= set(clean.columns)
    assert clean["share"].isna().sum() == 4
