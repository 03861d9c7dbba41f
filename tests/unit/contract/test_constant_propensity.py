"""A constant known propensity in the spec (issue 12, defect 12: a randomised experiment)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engage.contract.spec import CampaignSpec, ConstantPropensity, SpecError, load_spec
from engage.contract.validation import validate_log

SPEC = """\
name: experiment
context: [{name: size, type: numeric}]
decision: {style: {name: kind, type: categorical, values: [a, b, c]}}
outcomes: [{name: y}]
"""


def load(tmp_path: Path, propensity: str) -> CampaignSpec:
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC + f"propensity: {propensity}\n")
    return load_spec(path)


@pytest.mark.parametrize(
    "written", ["0.3333", "{value: 0.3333}", "{value: 0.3333, description: A/B/C test}"]
)
def test_a_constant_propensity_can_be_declared(tmp_path, written):
    spec = load(tmp_path, written)
    assert isinstance(spec.propensity, ConstantPropensity)
    assert spec.propensity.value == pytest.approx(0.3333)
    assert spec.propensity_column is None
    assert spec.declared_columns == ["size", "kind", "y"]  # no column to look for
    frame = pd.DataFrame({"size": [1.0, 2.0], "kind": ["a", "b"], "y": [0.0, 1.0]})
    np.testing.assert_array_equal(spec.logged_propensity(frame), [0.3333, 0.3333])


def test_a_propensity_column_still_works(tmp_path):
    spec = load(tmp_path, "p")
    assert spec.propensity == "p" and spec.propensity_column == "p"
    assert "p" in spec.declared_columns
    frame = pd.DataFrame({"p": [0.2, 0.5]})
    np.testing.assert_array_equal(spec.logged_propensity(frame), [0.2, 0.5])
    assert load_spec().logged_propensity(pd.DataFrame({"logged_propensity": [0.1]})).tolist() == [
        0.1
    ]


def test_no_propensity_gives_none(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC)
    assert load_spec(path).logged_propensity(pd.DataFrame({"y": [1.0]})) is None


@pytest.mark.parametrize(
    ("written", "says"),
    [
        ("0", "propensity.constant.value: Input should be greater than 0"),
        ("1.5", "propensity.constant.value: Input should be less than or equal to 1"),
        ("{value: -0.2}", "greater than 0"),
        ("true", "not a boolean"),
        ("[0.3]", "propensity must be a column name, a probability in (0, 1]"),
        ("{value: 0.5}", "propensity 0.5 for each of 3 styles sums to 1.5 > 1"),
        ("{valu: 0.3}", "propensity.constant.valu: Extra inputs are not permitted"),
    ],
)
def test_an_impossible_propensity_is_a_clear_spec_error(tmp_path, written, says):
    with pytest.raises(SpecError) as err:
        load(tmp_path, written)
    assert says in str(err.value)


def test_a_log_under_a_constant_propensity_validates_without_the_column(tmp_path):
    spec = load(tmp_path, "0.3333")
    rng = np.random.default_rng(0)
    log = pd.DataFrame(
        {
            "size": rng.uniform(1, 10, 90),
            "kind": np.array(["a", "b", "c"])[np.arange(90) % 3],
            "y": rng.normal(0, 1, 90),
        }
    )
    report = validate_log(log, spec)
    assert report.problems == [], report.summary()
    assert list(report.clean.columns) == ["size", "kind", "y"]


def test_the_constant_is_part_of_the_fingerprint(tmp_path):
    assert load(tmp_path, "0.3333").fingerprint != load(tmp_path, "0.25").fingerprint
    spec = load(tmp_path, "0.25")
    assert CampaignSpec.model_validate(spec.model_dump(mode="json")) == spec  # artifact round trip
