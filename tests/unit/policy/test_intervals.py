"""Per-recommendation intervals at run time: half-widths from the interval model for the shown
recommendations only, plain-file round trip inside the artifact, and policies without an
interval model answering with the constant half-widths."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pytest

from engage.policy.artifact import ArtifactError, load_policy, save_policy
from engage.policy.encoding import FeatureBuilder
from engage.policy.intervals import (
    INTERVALS_FILE,
    IntervalModel,
    IntervalModelError,
    interval_file,
)

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
PARAMS = {
    "verbose": -1,
    "num_threads": 1,
    "deterministic": True,
    "seed": 0,
    "num_leaves": 7,
    "min_data_in_leaf": 15,
    "learning_rate": 0.2,
    "objective": "regression",
}


def scale_model(tiny, outcomes: tuple[str, ...], level: float = 0.9) -> IntervalModel:
    """Scale models of |y - mean y| on the tiny log (arbitrary but depending on the row)."""
    builder = FeatureBuilder(tiny.spec)
    X = builder.build(tiny.log)
    boosters = []
    for name in outcomes:
        y = tiny.log[name].to_numpy(float)
        data = lgb.Dataset(X, np.abs(y - y.mean()), categorical_feature=builder.categorical_indices)
        boosters.append(lgb.train(PARAMS, data, num_boost_round=10))
    k = len(outcomes)
    return IntervalModel(
        outcomes=outcomes,
        boosters=tuple(boosters),
        multipliers=np.linspace(1.5, 2.5, k),
        floors=np.full(k, 1e-3),
        level=level,
        calibration_rows=123,
    )


@pytest.fixture(scope="module")
def intervals(tiny) -> IntervalModel:
    # covers all but the last of the policy's outcomes: that one keeps its constant width
    order = tiny.policy.predictor.outcomes
    return scale_model(tiny, tuple(order[:-1]))


@pytest.fixture(scope="module")
def with_intervals(tiny, intervals):
    return tiny.variant(interval_model=intervals)


def test_half_widths_are_multiplier_times_floored_scale(tiny, intervals) -> None:
    X = FeatureBuilder(tiny.spec).build(tiny.log.head(30))
    raw = np.column_stack([b.predict(X) for b in intervals.boosters])
    np.testing.assert_allclose(
        intervals.halfwidths(X), np.maximum(raw, intervals.floors) * intervals.multipliers
    )
    assert intervals.halfwidths(X[:0]).shape == (0, len(intervals.outcomes))


def test_half_widths_vary_with_the_profile_and_the_action(tiny, intervals) -> None:
    X = FeatureBuilder(tiny.spec).build(tiny.log.head(200))
    widths = intervals.halfwidths(X)
    assert (widths.std(0) > 0).all()
    same_profile = np.repeat(X[:1], len(tiny.policy.candidates), 0)
    same_profile[:, len(tiny.spec.context_names) :] = tiny.policy.candidates.encoded
    assert (intervals.halfwidths(same_profile).std(0) > 0).any()  # the action matters too


def test_an_answer_uses_the_half_widths_of_its_own_profile_and_action(
    tiny, with_intervals, intervals
) -> None:
    answers = with_intervals.recommend(tiny.profiles.head(8), top_k=3)
    rows, shown = [], []
    for i, answer in enumerate(answers):
        for rec in answer.recommendations:
            rows.append(
                np.concatenate(
                    [tiny.context[i], tiny.policy.candidates.encoded[rec.candidate_index]]
                )
            )
            shown.append(rec)
    want = intervals.halfwidths(np.array(rows))
    covered = list(intervals.outcomes)
    constant_only = [o for o in tiny.policy.predictor.outcomes if o not in covered]
    assert constant_only  # the fixture leaves one outcome to the constant
    for rec, w in zip(shown, want, strict=True):
        for k, name in enumerate(covered):
            f = rec.predicted[name]
            assert f.high - f.mean == pytest.approx(w[k]) and f.mean - f.low == pytest.approx(w[k])
        for name in constant_only:
            f = rec.predicted[name]
            half = tiny.policy.interval_halfwidth.get(name, 0.0)
            assert f.high - f.mean == pytest.approx(half)
    first = intervals.outcomes[0]
    assert len({round(r.predicted[first].high - r.predicted[first].mean, 9) for r in shown}) > 1


def test_everything_but_the_intervals_is_unchanged(tiny, with_intervals) -> None:
    plain = [a.to_dict() for a in tiny.policy.recommend(tiny.profiles.head(10))]
    widened = [a.to_dict() for a in with_intervals.recommend(tiny.profiles.head(10))]
    for a, b in zip(plain, widened, strict=True):
        for ra, rb in zip(a["recommendations"], b["recommendations"], strict=True):
            for f in (ra, rb):
                for forecast in f["predicted"].values():
                    forecast.pop("low"), forecast.pop("high")
        assert a == b


def test_the_interval_model_round_trips_as_plain_files(intervals, tiny, tmp_path) -> None:
    intervals.save(tmp_path / "iv")
    names = sorted(p.name for p in (tmp_path / "iv").iterdir())
    assert names == sorted(
        [INTERVALS_FILE, *(interval_file(i) for i in range(len(intervals.outcomes)))]
    )
    meta = json.loads((tmp_path / "iv" / INTERVALS_FILE).read_text())
    assert meta["level"] == 0.9 and meta["calibration_rows"] == 123
    again = IntervalModel.load(tmp_path / "iv")
    X = FeatureBuilder(tiny.spec).build(tiny.log.head(50))
    np.testing.assert_array_equal(again.halfwidths(X), intervals.halfwidths(X))
    assert again.outcomes == intervals.outcomes and again.level == intervals.level


def test_the_artifact_carries_the_interval_model(tiny, with_intervals, tmp_path) -> None:
    save_policy(with_intervals, tmp_path / "p")
    assert IntervalModel.present(tmp_path / "p" / "intervals")
    again = load_policy(tmp_path / "p")
    assert again.interval_model is not None
    got = [a.to_dict() for a in again.recommend(tiny.profiles.head(10))]
    want = [a.to_dict() for a in with_intervals.recommend(tiny.profiles.head(10))]
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)


def test_a_policy_without_an_interval_model_answers_with_the_constant(tiny, tmp_path) -> None:
    save_policy(tiny.policy, tmp_path / "p")
    assert not (tmp_path / "p" / "intervals").exists()
    again = load_policy(tmp_path / "p")
    assert again.interval_model is None
    got = [a.to_dict() for a in again.recommend(tiny.profiles.head(10))]
    want = [a.to_dict() for a in tiny.policy.recommend(tiny.profiles.head(10))]
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)


def test_interval_files_the_artifact_declares_must_be_there(with_intervals, tmp_path) -> None:
    save_policy(with_intervals, tmp_path / "p")
    shutil.rmtree(tmp_path / "p" / "intervals")
    with pytest.raises(ArtifactError, match="interval model.*intervals.json"):
        load_policy(tmp_path / "p")


@pytest.mark.parametrize("field", ["calibration_rows", "floors"])
def test_a_missing_interval_field_is_named(with_intervals, tmp_path, field) -> None:
    save_policy(with_intervals, tmp_path / "p")
    meta_file = tmp_path / "p" / "intervals" / INTERVALS_FILE
    meta = json.loads(meta_file.read_text())
    del meta[field]
    meta_file.write_text(json.dumps(meta))
    with pytest.raises(
        ArtifactError, match=f"interval model: intervals.json has no field '{field}'"
    ):
        load_policy(tmp_path / "p")


def test_the_committed_fixture_carries_an_interval_model() -> None:
    policy = load_policy(FIXTURES / "policy")
    assert policy.interval_model is not None
    # its answers are pinned by the snapshot test (tests/unit/policy/test_snapshot.py)


def test_a_broken_interval_model_is_refused_with_its_file_named(with_intervals, tmp_path) -> None:
    save_policy(with_intervals, tmp_path / "p")
    (tmp_path / "p" / "intervals" / interval_file(0)).unlink()
    with pytest.raises(ArtifactError, match="interval-scale-0.txt"):
        load_policy(tmp_path / "p")
    save_policy(with_intervals, tmp_path / "q")
    meta_path = tmp_path / "q" / "intervals" / INTERVALS_FILE
    meta = json.loads(meta_path.read_text())
    meta["multipliers"][0] = -1.0
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="1 outcome"):
        load_policy(tmp_path / "q")
    meta_path.write_text("{not json")
    with pytest.raises(ArtifactError, match=INTERVALS_FILE):
        load_policy(tmp_path / "q")


def test_inconsistent_models_are_refused(intervals) -> None:
    with pytest.raises(IntervalModelError, match="2 outcome"):
        IntervalModel(("a", "b"), intervals.boosters[:1], np.ones(2), np.ones(2), 0.9)
    with pytest.raises(IntervalModelError, match="level"):
        IntervalModel(("a",), intervals.boosters[:1], np.ones(1), np.ones(1), 1.0)
