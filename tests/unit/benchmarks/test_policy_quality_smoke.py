"""Smoke test of the policy-quality benchmark (runs in the product venv, without the peers)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[3]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import benchmarks.policy_quality as pq  # noqa: E402
from benchmarks.support.peers import JointActions, arm_values_from_sorted  # noqa: E402
from engage.simulation.world import STYLES, SimulatedWorld  # noqa: E402


def _config(**overrides) -> pq.Config:
    values = dict(
        worlds=["hard"],
        tracks=["style", "full"],
        sizes=[1500],
        seeds=1,
        seeds_large=1,
        contenders=["engage", *pq.BASELINES],
        engage_trials=0,
        jobs=1,
        heldout_n=300,
    )
    values.update(overrides)
    return pq.Config(**values)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("policy_quality")
    lines: list[str] = []
    result = pq.run_benchmark(_config(), out, log=lines.append)
    return out, result, lines


@pytest.mark.slow  # runs a tiny grid (~15 s)
def test_rows_exist_for_every_contender(tiny):
    _, result, _ = tiny
    rows = result["rows"]
    for track in ("style", "full"):
        names = {r["contender"] for r in rows if r["track"] == track}
        assert {"engage", "best_constant", "logged", "oracle"} <= names
        for r in rows:
            if r["track"] == track:
                assert r["error"] is None, r["error"]
                assert np.isfinite(r["true_value"]) and np.isfinite(r["regret"])
    engage = [r for r in rows if r["contender"] == "engage"]
    modes = {"personalized", "constant", "baseline", "logging"}  # logging: a declared log
    assert all(r["extra"]["mode"] in modes for r in engage)
    assert all(r["fit_seconds"] > 0 for r in engage)
    for r in engage:  # the best action it could reach is at least as good as the one it chose
        assert r["extra"]["candidate_floor"] <= r["regret"] + 1e-9
        assert r["extra"]["best_reachable_value"] >= r["true_value"] - 1e-9


@pytest.mark.slow  # runs a tiny grid (~15 s)
def test_oracle_bounds_and_regret_anchors(tiny):
    _, result, _ = tiny
    rows = result["rows"]
    style = [r for r in rows if r["track"] == "style"]
    oracle = next(r["true_value"] for r in style if r["contender"] == "oracle")
    for r in style:  # the style-track oracle is exact over the same 5 actions
        assert r["true_value"] <= oracle + 1e-9, r["contender"]
    for r in rows:
        if r["contender"] == "oracle":
            assert r["regret"] == pytest.approx(0.0, abs=1e-12)
        if r["contender"] == "logged":
            assert r["regret"] == pytest.approx(1.0, abs=1e-12)


@pytest.mark.slow  # runs a tiny grid (~15 s)
def test_outputs_render(tiny):
    out, _, lines = tiny
    md = (out / "policy_quality.md").read_text()
    for name in (
        "engage",
        "best_constant",
        "logged",
        "oracle",
        "hard world, style track",
        "hard world, full track",
    ):
        assert name in md
    assert "| contender | n=1500 |" in md
    assert "| engage candidate floor |" in md
    saved = json.loads((out / "policy_quality.json").read_text())
    assert {
        "world",
        "track",
        "n",
        "seed",
        "contender",
        "true_value",
        "regret",
        "fit_seconds",
        "extra",
    } <= set(saved["rows"][0])
    assert (out / "policy_quality_regret.png").stat().st_size > 0
    assert any("engage" in line and "regret" in line for line in lines)  # progress lines


@pytest.mark.slow  # runs a tiny grid (~15 s)
def test_resume_skips_finished_rows(tiny):
    out, result, _ = tiny
    lines: list[str] = []
    again = pq.run_benchmark(_config(), out, resume=True, log=lines.append)
    assert any(line.startswith("0 fits") for line in lines)
    assert len(again["rows"]) == len(result["rows"])


def test_a_failing_contender_is_recorded_and_the_run_goes_on(tmp_path, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("synthetic failure")

    monkeypatch.setattr(pq, "fit_engage", boom)
    result = pq.run_benchmark(_config(tracks=["style"]), tmp_path, log=lambda s: None)
    engage = [r for r in result["rows"] if r["contender"] == "engage"]
    assert engage and all("synthetic failure" in r["error"] for r in engage)
    assert any(r["contender"] == "best_constant" and r["error"] is None for r in result["rows"])
    assert "failed" in (tmp_path / "policy_quality.md").read_text()


def test_missing_peers_are_skipped_with_a_note(tmp_path):
    missing = [
        m for m in ("econml", "causalml", "vowpalwabbit") if importlib.util.find_spec(m) is None
    ]
    if not missing:
        pytest.skip("every peer is installed here")
    learners, notes = pq._available(list(pq.LEARNERS))
    assert "engage" in learners
    assert any(m in note for m in missing for note in notes)


# ---------------------------------------------------------------------- CausalML column order


def test_sorted_group_columns_map_back_to_the_arms_order():
    labels = ["zeta", "alpha", "ctrl", "mid"]  # the caller's arm order (not sorted)
    effect = {"alpha": 1.0, "mid": 3.0, "zeta": 2.0}  # known: "mid" is the right arm
    sorted_groups = sorted(effect)  # what CausalML's predict uses for its columns
    te = np.array([[effect[g] for g in sorted_groups]] * 4)
    values = arm_values_from_sorted(te, sorted_groups, labels, control="ctrl")
    assert values[0].tolist() == [2.0, 1.0, 0.0, 3.0]
    assert labels[int(values[0].argmax())] == "mid"
    # reading the columns in the caller's order instead would pick the wrong arm
    naive = [lab for lab in labels if lab != "ctrl"][int(te[0].argmax())]
    assert naive == "alpha"
    with pytest.raises(ValueError):
        arm_values_from_sorted(te, ["zeta", "alpha", "mid"], labels, control="ctrl")
    with pytest.raises(KeyError):
        arm_values_from_sorted(te, sorted_groups, [*labels, "other"], control="ctrl")


def test_causalml_x_learner_picks_the_known_arm_when_installed():
    pytest.importorskip("causalml")
    from causalml.inference.meta import BaseXRegressor
    from lightgbm import LGBMRegressor

    rng = np.random.default_rng(0)
    n = 3000
    X = rng.normal(size=(n, 3))
    labels = ["zz_best", "aa_bad", "control", "mm_zero"]
    lift = {"zz_best": 3.0, "aa_bad": -2.0, "control": 0.0, "mm_zero": 0.0}
    t = rng.choice(labels, size=n)
    y = X[:, 0] + np.array([lift[a] for a in t]) + rng.normal(scale=0.5, size=n)
    model = BaseXRegressor(
        learner=LGBMRegressor(n_estimators=50, verbose=-1), control_name="control"
    )
    model.fit(X, t, y, p={g: np.full(n, 0.5) for g in labels if g != "control"})
    te = model.predict(
        X[:50], p={g: np.full(50, 0.5) for g in labels if g != "control"}, verbose=False
    )
    values = arm_values_from_sorted(te, list(model.t_groups), labels, "control")
    assert all(labels[i] == "zz_best" for i in values.argmax(1))


# ---------------------------------------------------------------------- joint actions


def test_joint_actions_map_rows_to_their_own_style():
    log = SimulatedWorld("hard", "full").simulate(3000, seed=1)
    joint = JointActions.from_log(log, "full", seed=0)
    assert 5 <= len(joint) <= 30
    action = joint.assign(log)
    codes = log["style"].map({s: i for i, s in enumerate(STYLES)}).to_numpy()
    assert (joint.style[action] == codes).all()
    for s in range(len(STYLES)):
        assert joint.share_in_style[joint.style == s].sum() == pytest.approx(1.0)
    assert np.allclose(joint.mix.sum(1), 1.0)
    assert len(set(joint.labels)) == len(joint)
    style_joint = JointActions.from_log(
        SimulatedWorld("hard", "style").simulate(1000, seed=1), "style", 0
    )
    assert len(style_joint) == len(STYLES)
