"""Outliers and declared outcome bounds (issue 12, defect 1: one 1e12 conversion passed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.contract.checks.outliers import MIN_VALUES, check_outliers, outlier_fence
from engage.contract.declarations import OutlierPolicy
from engage.contract.report import ProblemCollector
from engage.contract.spec import CampaignSpec, SpecError, load_spec
from engage.contract.validation import validate_log


def tiny_spec(outcome: dict | None = None, size: dict | None = None, **extra) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "tiny",
            "context": [{"name": "size", "type": "numeric", **(size or {})}],
            "decision": {"style": {"name": "kind", "type": "categorical", "values": ["a", "b"]}},
            "outcomes": [{"name": "y", **(outcome or {})}],
            **extra,
        }
    )


def tiny_log(n: int = 2000, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "size": rng.uniform(1, 100, n),
            "kind": np.where(np.arange(n) % 2 == 0, "a", "b"),
            "y": rng.normal(5, 2, n),
        }
    )


def test_one_absurd_outcome_is_quarantined_by_default():
    log = tiny_log()
    log.loc[17, "y"] = 1e12
    report = validate_log(log, tiny_spec())
    assert not report.fatal, report.summary()
    problems = [p for p in report.problems if p.column == "y"]
    assert [(p.severity, p.count) for p in problems] == [("quarantine", 1)]
    assert "column 'y': 1 row has an outlier" in problems[0].message
    assert "1000000000000" in problems[0].message
    assert "20 x the inter-quartile range" in problems[0].message
    assert report.quarantine["_row"].tolist() == [17]
    assert (
        report.quarantine["_reason"]
        .item()
        .startswith("column 'y': outlier 1000000000000 outside [")
    )
    assert report.clean["y"].max() < 100


def test_the_default_spec_quarantines_the_conversions_of_the_issue():
    from engage.simulation.world import SimulatedWorld

    log = SimulatedWorld("hard").simulate(2000, seed=4)
    log.loc[100, "conversions"] = 1e12
    report = validate_log(log, load_spec())
    outliers = [p for p in report.problems if p.column == "conversions"]
    assert [(p.severity, p.count) for p in outliers] == [("quarantine", 1)], report.summary()
    assert 100 in set(report.quarantine["_row"])


def test_fence_is_k_iqr_beyond_the_quartiles():
    values = np.arange(1.0, 101.0)  # q25 = 25.75, q75 = 75.25, IQR = 49.5
    assert outlier_fence(values, 20) == pytest.approx((25.75 - 990, 75.25 + 990))
    assert outlier_fence(values, 2) == pytest.approx((25.75 - 99, 75.25 + 99))


def test_zero_iqr_falls_back_to_a_wider_range_then_gives_up():
    # 80% zeros: IQR 0, the 5-95% range (0 to 4.2) is the spread instead
    values = np.r_[np.zeros(80), np.linspace(1, 5, 20)]
    low, high = outlier_fence(values, 20)
    assert high == pytest.approx(20 * np.percentile(values, 95))
    assert low < 0
    # all equal, or too few values: not judged (nothing to scale a fence by)
    assert outlier_fence(np.r_[np.zeros(200), 1e12], 20) is None
    assert outlier_fence(np.arange(float(MIN_VALUES - 1)), 20) is None


def test_zero_inflated_outcome_keeps_its_rare_positives():
    log = tiny_log()
    log["y"] = np.where(np.arange(len(log)) % 10 == 0, 3.0, 0.0)  # 10% conversions
    report = validate_log(log, tiny_spec())
    assert not any(p.column == "y" for p in report.problems), report.summary()


@pytest.mark.parametrize(
    ("policy", "severity"),
    [("quarantine", "quarantine"), ("fatal", "error"), ("warn", "warning"), ("keep", None)],
)
def test_outcome_policy_decides_what_happens(policy, severity):
    log = tiny_log()
    log.loc[[3, 4], "y"] = [1e9, -1e9]
    report = validate_log(log, tiny_spec({"outliers": policy}))
    found = [(p.severity, p.count) for p in report.problems if p.column == "y"]
    assert found == ([] if severity is None else [(severity, 2)])
    assert report.fatal == (policy == "fatal")
    assert len(report.quarantine) == (2 if policy == "quarantine" else 0)


def test_profile_numbers_are_judged_only_when_asked():
    log = tiny_log()
    log.loc[5, "size"] = 1e15
    assert validate_log(log, tiny_spec()).problems == []  # heavy tails are normal in profiles
    warned = validate_log(log, tiny_spec(size={"outliers": "warn"}))
    (problem,) = warned.problems
    assert (problem.severity, problem.column, problem.count) == ("warning", "size", 1)
    assert "kept (outliers: warn)" in problem.message and len(warned.quarantine) == 0
    strict = validate_log(log, tiny_spec(size={"outliers": "quarantine"}))
    assert strict.quarantine["_row"].tolist() == [5]


def test_the_simulated_world_has_no_outcome_outliers():
    from engage.simulation.world import SimulatedWorld

    report = validate_log(SimulatedWorld("hard").simulate(20000, seed=0), load_spec())
    assert report.problems == [], report.summary()


def test_declared_outcome_bounds_quarantine_and_are_not_reported_twice():
    log = tiny_log()
    log.loc[[1, 2], "y"] = [-60.0, 1e12]
    report = validate_log(log, tiny_spec({"min": -50, "max": 100}))
    problems = [(p.severity, p.count, p.message) for p in report.problems if p.column == "y"]
    assert len(problems) == 1, problems
    assert problems[0][:2] == ("quarantine", 2) and "[-50, 100]" in problems[0][2]


def test_outcome_bounds_and_policy_are_checked_in_the_spec():
    with pytest.raises(ValueError, match="min 5.0 > max 1.0"):
        tiny_spec({"min": 5, "max": 1})
    with pytest.raises(ValueError, match="outliers"):
        tiny_spec({"outliers": "drop"})
    with pytest.raises(ValueError, match="outlier_iqr_multiple"):
        tiny_spec(outlier_iqr_multiple=0)
    assert tiny_spec().outcomes[0].outliers == OutlierPolicy.quarantine
    assert tiny_spec().context[0].outliers == OutlierPolicy.keep  # not judged


def test_spec_file_with_outcome_bounds_loads(tmp_path):
    text = (
        "name: t\ncontext: [{name: size, type: numeric}]\n"
        "decision: {style: {name: kind, type: categorical, values: [a, b]}}\n"
        "outcomes: [{name: y, min: 0, max: 1000, outliers: fatal}]\noutlier_iqr_multiple: 50\n"
    )
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    spec = load_spec(path)
    assert (spec.outcomes[0].min, spec.outcomes[0].max) == (0, 1000)
    assert spec.outcomes[0].outliers == OutlierPolicy.fatal and spec.outlier_iqr_multiple == 50
    path.write_text(text.replace("outliers: fatal", "outliers: sometimes"))
    with pytest.raises(SpecError, match="outcomes.0.outliers"):
        load_spec(path)


def test_binary_outcomes_are_not_judged_for_outliers():
    log = tiny_log().assign(y=lambda d: (np.arange(len(d)) % 50 == 0).astype(float))
    report = validate_log(log, tiny_spec({"type": "binary"}))
    assert not any(p.column == "y" for p in report.problems), report.summary()


def test_check_outliers_judges_only_the_rows_it_is_given():
    values = np.r_[np.linspace(0, 10, 100), 1e6, 2e6]
    judged = np.ones(len(values), dtype=bool)
    judged[-1] = False  # e.g. already out of declared bounds
    c = ProblemCollector(len(values))
    check_outliers(c, values, judged, "x", OutlierPolicy.quarantine, 20)
    assert c.bad.tolist() == [False] * 100 + [True, False]
