"""Per-style corrections: each (outcome, style) output learns from its own style's rows only."""

from __future__ import annotations

import numpy as np

from engage.training.models import correction_objective, fit_style_corrections


def test_objective_gives_other_styles_no_gradient():
    target = np.array([[1.0, 2.0], [3.0, 4.0]])
    mask = np.array([[1.0, 0.0], [0.0, 1.0]])
    grad, hess = correction_objective(target, mask)(np.zeros(4), None)
    assert grad.tolist() == [[-1.0, 0.0], [0.0, -4.0]]
    assert hess.tolist() == mask.tolist()


def test_corrections_recover_a_style_by_profile_residual():
    rng = np.random.default_rng(0)
    n = 20_000
    x = rng.uniform(-1, 1, size=(n, 3))
    style = rng.integers(0, 3, n)
    # the shared model missed: style 1 is worth +1 more for profiles with x0 > 0; style 2 is 0.5 worse
    residual = np.where(style == 1, np.where(x[:, 0] > 0, 1.0, 0.0), 0.0) - 0.5 * (style == 2)
    residual += rng.normal(0, 0.3, n)
    corr = fit_style_corrections(
        x, style, {"sales": residual}, 3, categorical=[], seed=0, rounds=80
    )
    assert corr is not None
    probe = np.array([[0.8, 0.0, 0.0], [-0.8, 0.0, 0.0]])
    c = corr.predict(probe)[:, 0, :]  # (profiles, styles)
    assert c[0, 1] - c[1, 1] > 0.6  # style 1's correction depends on x0
    assert abs(c[0, 0] - c[1, 0]) < 0.15  # style 0's does not
    assert np.all(c[:, 2] < -0.35)  # style 2 corrected down everywhere
    # contributions (bias last) add up to the corrections
    contrib = corr.contributions(probe)
    assert np.allclose(contrib.sum(-1), corr.predict(probe))


def test_no_rounds_means_no_corrections():
    x = np.zeros((500, 2))
    assert (
        fit_style_corrections(
            x, np.zeros(500, int), {"y": np.zeros(500)}, 2, categorical=[], seed=0, rounds=0
        )
        is None
    )
