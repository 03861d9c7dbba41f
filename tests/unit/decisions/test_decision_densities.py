"""The round trip of recorded densities: decisions served with full-action exploration are
exported with their densities and exploration parameters, and an exported log read back
through its spec (validation, as training reads it) gives the same densities, propensities
and actions to the full-action estimators."""

from __future__ import annotations

import numpy as np
import pytest

from engage.contract.spec import load_spec
from engage.contract.validation import validate_file
from engage.decisions.export import density_columns, recorded_actions
from tests.unit.decisions.test_decision_store import SPEC, export_with_outcomes, record


def _explored(k: int):
    style = SPEC.styles[k % len(SPEC.styles)]
    mix = {
        "promotional": 0.3 + 0.01 * k,
        "educational": 0.3 - 0.01 * k,
        "conversational": 0.2,
        "visual": 0.1,
        "curated": 0.1,
    }
    return record(
        style=style,
        posting_mix=mix,
        decisions={"posts_per_week": 5.0 + 0.37 * k},
        probability=0.25 + 0.01 * k,
        density=10.0 + k,
        continuous={
            "mix_concentration": 30.0,
            "mix_contraction": 1.0,
            "half_width": [2.5],
            "scale": 1.0,
        },
    )


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_exported_densities_come_back_through_the_spec(tmp_path, suffix):
    recs = [_explored(k) for k in range(25)]
    out = export_with_outcomes(recs, tmp_path, f"loop{suffix}")
    spec = load_spec(out.spec)
    names = density_columns(spec)
    assert set(names.values()) <= set(spec.passthrough)
    report = validate_file(out.log, spec)
    report.raise_if_fatal()
    frame = report.clean
    assert len(frame) == 25 and len(report.quarantine) == 0
    by_id = {r.decision_id: r for r in recs}
    order = [by_id[i] for i in frame[spec.id]]
    # the style probability is the spec's propensity, as training and the estimators read it
    assert spec.logged_propensity(frame) == pytest.approx([r.probability for r in order])
    actions, missing = recorded_actions(spec, frame)
    assert missing == 0
    assert actions.density == pytest.approx([r.density for r in order], rel=1e-12)
    assert actions.half_width[:, 0] == pytest.approx([2.5] * 25)
    assert actions.mix_concentration == pytest.approx([30.0] * 25)
    assert actions.numeric[:, 0] == pytest.approx([r.decisions["posts_per_week"] for r in order])
    assert actions.mix[:, 0] == pytest.approx([r.posting_mix["promotional"] for r in order])
    assert actions.low.tolist() == [1.0] and actions.high.tolist() == [60.0]


def test_unexplored_rows_are_kept_with_no_density(tmp_path):
    out = export_with_outcomes([_explored(k) for k in range(25)] + [record()], tmp_path)
    spec = load_spec(out.spec)
    report = validate_file(out.log, spec)
    frame = report.clean
    actions, missing = recorded_actions(spec, frame)
    assert missing == 1 and actions.explored.sum() == 25 and actions.n == 26
    assert np.isnan(frame[density_columns(spec)["density"]].to_numpy(float)).sum() == 1
