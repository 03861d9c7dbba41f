"""Tests of the diagnostic figures in ``engage.reporting.plots``."""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure

from engage.reporting import plots
from engage.reporting.metrics import r_squared as fit_r2
from engage.reporting.plots import _inputs, _style

STYLES = ["broadcast", "conversational", "customer_care", "thought_leadership", "community"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_all():
    yield
    plt.close("all")


def _data_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.has_data()]


def _titles(fig: Figure) -> str:
    parts = [ax.get_title() for ax in fig.axes]
    if fig._suptitle is not None:
        parts.append(fig._suptitle.get_text())
    return "\n".join(parts)


def _all_text(fig: Figure) -> str:
    return "\n".join(t.get_text() for ax in fig.axes for t in ax.texts)


def _assert_png(fig: Figure) -> None:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue().startswith(PNG_SIGNATURE)


def _assert_no_data(fig: Figure) -> None:
    assert isinstance(fig, Figure)
    assert _data_axes(fig) == []
    assert "no data" in _all_text(fig)
    _assert_png(fig)
    plt.close(fig)


def _propensity_data(n: int = 600, k: int = len(STYLES), seed: int = 0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k)) * 1.5
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    codes = (p.cumsum(axis=1) > rng.random((n, 1))).argmax(axis=1)
    return p, codes


# --------------------------------------------------------------------------- colours


def test_style_colours_follow_style_order_and_are_distinct():
    colours = plots.style_colors(STYLES)
    assert list(colours) == STYLES
    assert len(set(colours.values())) == len(STYLES)
    assert plots.style_colors(["x", "y"])["x"] == colours["broadcast"]


def test_style_colours_cycle_after_ten_styles():
    colours = plots.style_colors([f"s{i}" for i in range(12)])
    assert colours["s10"] == colours["s0"] and colours["s11"] == colours["s1"]


# --------------------------------------------------------------------------- shared look and inputs


@pytest.mark.parametrize(
    ("n", "max_cols", "expected"),
    [
        (1, 3, (1, 1)),
        (3, 3, (1, 3)),
        (4, 3, (2, 2)),
        (5, 3, (2, 3)),
        (7, 3, (3, 3)),
        (3, 2, (2, 2)),
    ],
)
def test_grid_shapes(n, max_cols, expected):
    assert _style.grid(n, max_cols) == expected


def test_panels_remove_unused_cells_and_outer_labels_reach_every_column():
    fig = _style.new_figure()
    axes = _style.panels(fig, 5, sharex=True)  # a 2x3 grid with the last cell removed
    assert len(axes) == len(fig.axes) == 5
    _style.label_outer(axes, "x", "y")
    assert [ax.get_ylabel() for ax in axes] == ["y", "", "", "y", ""]
    # panel 2 sits above the removed cell, so it carries its column's x label
    assert [ax.get_xlabel() for ax in axes] == ["", "", "x", "x", "x"]
    plt.close(fig)


def test_unit_suffix_only_for_known_outcomes():
    assert _style.unit_suffix("conversions") == " (per 1k followers)"
    assert _style.unit_suffix("custom") == ""


def test_as_codes_maps_non_finite_labels_to_no_style():
    assert _inputs.as_codes(np.array([0, 2, 1])).tolist() == [0, 2, 1]
    assert _inputs.as_codes(np.array([True, False])).tolist() == [1, 0]
    assert _inputs.as_codes(np.array([[1.0], [np.nan], [np.inf]])).tolist() == [1, -1, -1]


def test_check_proba_accepts_one_style_as_1d_and_names_the_bad_shape():
    p = _inputs.check_proba(np.array([0.2, 0.8]), np.zeros(2, int), ["only"], "proba")
    assert p.shape == (2, 1)
    with pytest.raises(ValueError, match="2-d"):
        _inputs.check_proba(np.ones((2, 1, 1)), np.zeros(2, int), ["only"], "proba")
    with pytest.raises(ValueError, match="rows"):
        _inputs.check_proba(np.ones((3, 2)), np.zeros(2, int), ["a", "b"], "proba")


# --------------------------------------------------------------------------- propensity overlap


def test_propensity_overlap_panel_per_style_with_clip_share():
    p, codes = _propensity_data()
    fig = plots.plot_propensity_overlap(p, codes, STYLES, clip=0.05)
    assert isinstance(fig, Figure)
    data_axes = _data_axes(fig)
    assert len(data_axes) == len(STYLES)
    for k, (ax, style) in enumerate(zip(data_axes, STYLES, strict=True)):
        assert ax.get_xscale() == "log"
        assert ax.get_xlim() == pytest.approx((1e-3, 1.0))
        share = np.mean(p[:, k] < 0.05)
        assert style in ax.get_title()
        assert f"{100 * share:.1f}% of rows below 0.05" in ax.get_title()
        dashed = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
        assert len(dashed) == 1 and dashed[0].get_xdata()[0] == pytest.approx(0.05)
    # the logged group uses the style's colour
    first = data_axes[0].patches
    assert any(
        np.allclose(patch.get_facecolor()[:3], plots.style_colors(STYLES)["broadcast"])
        for patch in first
    )
    _assert_png(fig)
    plt.close(fig)


def test_propensity_overlap_without_clip_has_no_threshold_line():
    p, codes = _propensity_data()
    fig = plots.plot_propensity_overlap(p, codes, STYLES)
    for ax in _data_axes(fig):
        assert "below" not in ax.get_title()
        assert not [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    plt.close(fig)


def test_propensity_overlap_style_never_logged_and_nans():
    p, codes = _propensity_data()
    codes = np.where(codes == 2, 0, codes)  # nobody logged customer_care
    p = p.copy()
    p[:10, 1] = np.nan
    p[:, 4] = np.nan  # a style whose propensities are all missing
    fig = plots.plot_propensity_overlap(p, codes, STYLES, clip=0.02)
    assert len(_data_axes(fig)) == len(STYLES)  # the clip line still draws on every panel
    assert "no rows logged customer_care" in _all_text(fig)
    assert "no finite propensities" in _all_text(fig)
    assert "no rows logged community" not in _all_text(fig)  # logged, just no propensities
    _assert_png(fig)
    plt.close(fig)


def test_propensity_overlap_threshold_below_floor_widens_the_axis():
    p, codes = _propensity_data()
    fig = plots.plot_propensity_overlap(p, codes, STYLES, clip=2e-4)
    for ax in _data_axes(fig):
        assert ax.get_xlim() == pytest.approx((1e-4, 1.0))
        assert "below 0.0002" in ax.get_title()
    plt.close(fig)


def test_propensity_overlap_single_style_and_float_labels():
    p = np.linspace(0.01, 1.0, 50)  # one style may come as a 1-d array
    codes = np.zeros(50, dtype=float)
    codes[0] = np.nan  # a missing label counts as "another style"
    fig = plots.plot_propensity_overlap(p, codes, ["only"], clip=0.05)
    (ax,) = _data_axes(fig)
    labels = ax.get_legend_handles_labels()[1]
    assert "logged only (n=49)" in labels and "other styles (n=1)" in labels
    plt.close(fig)


def test_propensity_overlap_empty_and_bad_shape():
    _assert_no_data(plots.plot_propensity_overlap(np.empty((0, 5)), np.empty(0, int), STYLES))
    _assert_no_data(plots.plot_propensity_overlap(np.empty((3, 0)), np.zeros(3, int), []))
    with pytest.raises(ValueError, match="columns"):
        plots.plot_propensity_overlap(np.ones((3, 2)) / 2, np.zeros(3, int), STYLES)


# --------------------------------------------------------------------------- policy values


def _policy_values():
    return {
        "learned": {
            "dm": (3.0, 2.6, 3.4),
            "ips": (3.2, 2.4, 4.0),
            "snips": (3.1, 2.5, 3.7),
            "dr": (3.05, 2.7, 3.4),
            "true": (3.1, 3.1, 3.1),
        },
        "logged": {"dm": (2.4, 2.2, 2.6), "dr": (2.5, 2.3, 2.7), "true": (2.45,) * 3},
        "best_constant": {"dm": (2.7, 2.5, 2.9), "ips": (float("nan"),) * 3},
    }


def test_policy_values_markers_intervals_and_reference_lines():
    fig = plots.plot_policy_values(_policy_values(), oracle=3.5)
    assert isinstance(fig, Figure)
    (ax,) = _data_axes(fig)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["learned", "logged", "best constant"]
    labels = ax.get_legend_handles_labels()[1]
    # estimators in canonical order, then true-value and oracle lines
    assert [lab for lab in labels if lab in {"DM", "IPS", "SNIPS", "DR"}] == [
        "DM",
        "IPS",
        "SNIPS",
        "DR",
    ]
    assert "true value (simulation)" in labels
    assert any(lab.startswith("oracle") and "3.5" in lab for lab in labels)
    assert "95%" in ax.get_title()
    # 4 + 2 + 1 finite estimates, each an errorbar container; the NaN IPS is skipped
    assert len(ax.containers) == 7
    oracle_lines = [ln for ln in ax.get_lines() if ln.get_linestyle() == ":"]
    assert len(oracle_lines) == 1 and oracle_lines[0].get_xdata()[0] == pytest.approx(3.5)
    _assert_png(fig)
    plt.close(fig)


def test_policy_values_without_oracle_or_true():
    values = {"learned": {"dm": (1.0, 0.5, 1.5)}, "logged": {"ips": (0.8, float("nan"), 1.0)}}
    fig = plots.plot_policy_values(values)
    (ax,) = _data_axes(fig)
    labels = ax.get_legend_handles_labels()[1]
    assert not any(lab.startswith("oracle") or lab.startswith("true") for lab in labels)
    assert len(ax.containers) == 2
    _assert_png(fig)
    plt.close(fig)


def test_policy_values_extra_estimators_follow_the_known_ones_in_spare_colours():
    values = {
        "learned": {"switch": (1.0, 0.9, 1.1), "dr": (1.1, 1.0, float("inf")), "bad": "x"},
        "logged": {
            "cab": (0.5, 0.4, 0.6),
            "switch": (0.6, 0.5, 0.7),
            "short": (1.0, 2.0),
            "none": None,
        },
    }
    fig = plots.plot_policy_values(values)
    (ax,) = _data_axes(fig)
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["DR", "switch", "cab"]
    colours = {c.get_label(): c.lines[0].get_color() for c in ax.containers}
    assert colours["DR"] == "#e7298a"
    assert colours["switch"] == "#66a61e" and colours["cab"] == "#e6ab02"
    # malformed estimates ("x", a pair, None) are skipped; an infinite bound collapses to the value
    assert len(ax.containers) == 4
    dr = next(c for c in ax.containers if c.get_label() == "DR")
    assert dr.lines[2][0].get_segments()[0][:, 0] == pytest.approx([1.0, 1.1])
    plt.close(fig)


def test_policy_values_empty():
    _assert_no_data(plots.plot_policy_values({}))
    _assert_no_data(plots.plot_policy_values({"learned": {}}, oracle=1.0))
    _assert_no_data(plots.plot_policy_values({"learned": {"dm": (float("nan"),) * 3}}))


# --------------------------------------------------------------------------- feature importance


def _importances(n_outcomes: int = 3, n_features: int = 30, seed: int = 1):
    rng = np.random.default_rng(seed)
    return {
        f"outcome_{i}": {f"feat_{j}": float(rng.gamma(0.7, 50)) for j in range(n_features)}
        for i in range(n_outcomes)
    }


def test_feature_importance_panel_per_outcome_top_features_as_shares():
    imp = _importances()
    fig = plots.plot_feature_importance(imp, top=10)
    data_axes = _data_axes(fig)
    assert len(data_axes) == 3
    for ax, (outcome, gains) in zip(data_axes, imp.items(), strict=True):
        assert outcome in ax.get_title()
        bars = ax.patches
        assert len(bars) == 10
        total = sum(gains.values())
        expected = sorted(gains.values(), reverse=True)[:10]
        widths = sorted((b.get_width() for b in bars), reverse=True)
        assert widths == pytest.approx([100 * g / total for g in expected])
        assert "%" in ax.get_xlabel()
        assert f"{sum(widths):.1f}% of gain" in ax.get_title()
        # the largest bar is on top
        top_label = ax.get_yticklabels()[-1].get_text()
        assert gains[top_label] == max(gains.values())
    _assert_png(fig)
    plt.close(fig)


def test_feature_importance_at_most_four_panels_and_constant_model():
    imp = _importances(n_outcomes=6)
    imp["outcome_1"] = {f"feat_{j}": 0.0 for j in range(5)}  # constant predictor: no splits
    imp["outcome_2"]["feat_0"] = float("nan")
    fig = plots.plot_feature_importance(imp)
    assert len(fig.axes) == 4
    assert len(_data_axes(fig)) == 3
    assert "first 4 of 6 outcomes" in _titles(fig)
    assert "no positive gain" in _all_text(fig)
    assert "feat_0" not in [t.get_text() for t in fig.axes[2].get_yticklabels()]
    _assert_png(fig)
    plt.close(fig)


def test_feature_importance_titles_carry_outcome_units():
    fig = plots.plot_feature_importance(_importances(n_outcomes=1) | {"conversions": {"a": 1.0}})
    assert "conversions (per 1k followers)\ntop 1 of 1 features = 100.0% of gain" in _titles(fig)
    plt.close(fig)


def test_feature_importance_empty():
    _assert_no_data(plots.plot_feature_importance({}))


# --------------------------------------------------------------------------- calibration


def test_calibration_panel_per_style_with_brier_scores():
    p, codes = _propensity_data(n=2000, seed=3)
    fig = plots.plot_calibration(codes, p, STYLES, n_bins=8)
    data_axes = _data_axes(fig)
    assert len(data_axes) == len(STYLES)
    for k, (ax, style) in enumerate(zip(data_axes, STYLES, strict=True)):
        brier = np.mean((p[:, k] - (codes == k)) ** 2)
        assert f"{style}: Brier {brier:.3f}" in ax.get_title()
        (points,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
        assert len(points.get_xdata()) == 8
        # the labels were sampled from p, so the model is calibrated: points near the diagonal
        assert np.max(np.abs(points.get_xdata() - points.get_ydata())) < 0.15
    multi = np.mean(np.sum((p - np.eye(len(STYLES))[codes]) ** 2, axis=1))
    assert f"multiclass Brier {multi:.3f}" in _titles(fig)
    _assert_png(fig)
    plt.close(fig)


def test_calibration_constant_predictor_unlogged_style_and_nans():
    rng = np.random.default_rng(4)
    n = 300
    codes = rng.integers(0, 2, n)  # styles 2..4 never observed
    p = np.full((n, len(STYLES)), 0.2)  # constant predictor
    p[:5, 0] = np.nan
    fig = plots.plot_calibration(codes, p, STYLES)
    data_axes = _data_axes(fig)
    assert len(data_axes) == len(STYLES)
    for ax in data_axes:
        (points,) = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
        assert len(points.get_xdata()) == 1  # one bin for a constant
    brier_unlogged = 0.2**2
    assert f"community: Brier {brier_unlogged:.3f}" in _titles(fig)
    assert "logged in 0 of 300 rows" in _titles(fig)
    _assert_png(fig)
    plt.close(fig)


def test_calibration_without_complete_rows_has_no_multiclass_brier():
    p, codes = _propensity_data(n=100)
    p[::2, 0] = np.nan
    p[1::2, 1] = np.nan  # every row misses one probability
    fig = plots.plot_calibration(codes, p, STYLES)
    assert len(_data_axes(fig)) == len(STYLES)
    assert "multiclass Brier" not in _titles(fig)
    plt.close(fig)


def test_calibration_empty_and_all_nan_style():
    _assert_no_data(plots.plot_calibration(np.empty(0, int), np.empty((0, 5)), STYLES))
    p, codes = _propensity_data(n=100)
    p[:, 3] = np.nan
    fig = plots.plot_calibration(codes, p, STYLES)
    assert len(_data_axes(fig)) == len(STYLES) - 1
    assert "thought_leadership\nBrier n/a" in _titles(fig)
    plt.close(fig)


# --------------------------------------------------------------------------- outcome fit


def _r2(y, yhat):
    return 1 - np.sum((y - yhat) ** 2) / np.sum((y - y.mean()) ** 2)


def test_outcome_fit_panel_per_outcome_with_r2():
    rng = np.random.default_rng(5)
    y_true, y_pred = {}, {}
    for name, n in [("conversions", 8000), ("engagement_rate", 500), ("custom", 300)]:
        pred = rng.normal(size=n)
        y_pred[name] = pred
        y_true[name] = pred + rng.normal(scale=0.7, size=n)
    y_true["engagement_rate"][:7] = np.nan
    fig = plots.plot_outcome_fit(y_true, y_pred)
    data_axes = _data_axes(fig)
    assert len(data_axes) == 3
    for ax, name in zip(data_axes, y_true, strict=True):
        ok = np.isfinite(y_true[name])
        r2 = _r2(y_true[name][ok], y_pred[name][ok])
        assert f"{name}\nR² = {r2:.3f}" in ax.get_title()
        (scatter,) = ax.collections
        assert len(scatter.get_offsets()) == min(ok.sum(), 5000)
        assert any(ln.get_linestyle() == "--" for ln in ax.get_lines())
    assert "n = 493" in data_axes[1].get_title()
    assert "per 1k followers" in data_axes[0].get_xlabel()
    assert data_axes[2].get_xlabel() == "predicted"
    _assert_png(fig)
    plt.close(fig)


def test_outcome_fit_constant_predictor_and_constant_outcome():
    rng = np.random.default_rng(6)
    y = rng.normal(size=200)
    fig = plots.plot_outcome_fit(
        {"flat_pred": y, "flat_obs": np.full(200, 3.0), "missing_pred": y},
        {"flat_pred": np.full(200, y.mean()), "flat_obs": np.full(200, 3.0)},
    )
    data_axes = _data_axes(fig)
    assert len(data_axes) == 2  # the outcome without predictions is skipped
    assert "R² = 0.000" in data_axes[0].get_title()
    assert "R² = n/a" in data_axes[1].get_title()
    _assert_png(fig)
    plt.close(fig)


def test_r2_is_undefined_for_fewer_than_two_or_constant_observations():
    assert np.isnan(fit_r2(np.array([1.0]), np.array([2.0])))
    assert np.isnan(fit_r2(np.full(3, 2.0), np.arange(3.0)))
    assert fit_r2(np.arange(3.0), np.arange(3.0)) == pytest.approx(1.0)


def test_outcome_fit_single_row_and_constant_pair_still_draw():
    fig = plots.plot_outcome_fit(
        {"one": np.array([1.0]), "zeros": np.zeros(3)},
        {"one": np.array([2.0]), "zeros": np.zeros(3)},
    )
    one, zeros = _data_axes(fig)
    assert "R² = n/a (n = 1)" in one.get_title()
    assert zeros.get_xlim() == pytest.approx((-0.1, 0.1))  # a zero-width range is padded
    plt.close(fig)


def test_outcome_fit_empty_and_all_nan():
    _assert_no_data(plots.plot_outcome_fit({}, {}))
    _assert_no_data(plots.plot_outcome_fit({"a": np.ones(3)}, {"b": np.ones(3)}))
    fig = plots.plot_outcome_fit({"a": np.full(4, np.nan)}, {"a": np.ones(4)})
    assert _data_axes(fig) == []
    assert "R² n/a" in _titles(fig)
    plt.close(fig)
    open_before = plt.get_fignums()
    with pytest.raises(ValueError, match="y_pred"):
        plots.plot_outcome_fit({"a": np.ones(3)}, {"a": np.ones(4)})
    assert plt.get_fignums() == open_before  # no half-drawn figure left open
