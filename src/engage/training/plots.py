"""Diagnostic figures a training run logs to MLflow as artifacts.

Every function returns a :class:`matplotlib.figure.Figure` sized for 1000x600 px; the caller
logs it (``mlflow.log_figure(fig, "plots/<name>.png")``) and closes it. Figures never raise on
thin data: empty inputs give a figure with a centred "no data" note, NaNs are skipped, and a
style with no logged rows or a constant predictor still draws.

Colours: style ``i`` of the ``styles`` argument is always ``tab10[i]``, in every figure, so a
style looks the same across plots. Estimators and outcomes use their own fixed colours, drawn
from palettes that do not suggest a style.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

__all__ = [
    "FIGSIZE",
    "OUTCOME_UNITS",
    "plot_calibration",
    "plot_feature_importance",
    "plot_outcome_fit",
    "plot_policy_values",
    "plot_propensity_overlap",
    "style_colors",
]

#: Figure size in inches at ``DPI``: 1000x600 px.
FIGSIZE: tuple[float, float] = (10.0, 6.0)
DPI = 100

_STYLE_PALETTE = plt.get_cmap("tab10").colors
_OTHER_COLOR = "#9a9a9a"
_NEUTRAL_COLOR = "#3b4a5a"
_REFERENCE_COLOR = "#555555"

#: Fixed colour and marker per off-policy estimator (Dark2, so they never read as a style).
_ESTIMATOR_ORDER = ("dm", "ips", "snips", "dr")
_ESTIMATOR_STYLE: dict[str, tuple[str, str]] = {
    "dm": ("#1b9e77", "o"),
    "ips": ("#d95f02", "s"),
    "snips": ("#7570b3", "D"),
    "dr": ("#e7298a", "^"),
}
_EXTRA_ESTIMATOR_COLORS = ("#66a61e", "#e6ab02", "#a6761d", "#666666")
_EXTRA_ESTIMATOR_MARKERS = ("v", "P", "X", "h")
_ESTIMATOR_LABELS = {"dm": "DM", "ips": "IPS", "snips": "SNIPS", "dr": "DR"}

#: Units of the simulated world's outcomes (see ``features/specs``); unknown outcomes get none.
OUTCOME_UNITS: dict[str, str] = {
    "conversions": "per 1k followers",
    "engagement_rate": "%",
    "follower_growth": "%",
    "retention_30d": "%",
}

_PROPENSITY_FLOOR = 1e-3
_MAX_SCATTER_POINTS = 5000


# --------------------------------------------------------------------------- helpers


def style_colors(styles: Sequence[str]) -> dict[str, tuple[float, float, float]]:
    """The fixed colour of each style: ``tab10`` in the order of ``styles``."""
    return {s: _STYLE_PALETTE[i % len(_STYLE_PALETTE)] for i, s in enumerate(styles)}


def _new_figure() -> Figure:
    return plt.figure(figsize=FIGSIZE, dpi=DPI)


def _no_data_figure(title: str, note: str = "no data") -> Figure:
    """A figure with a title and a centred note, for inputs with nothing to draw."""
    fig = _new_figure()
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, note, ha="center", va="center", fontsize=16, color=_REFERENCE_COLOR,
            transform=ax.transAxes)
    fig.suptitle(title, fontsize=14)
    return fig


def _note(ax: Axes, text: str, clear_ticks: bool = True) -> None:
    """Write a centred note in an otherwise empty panel (keep the ticks of shared axes)."""
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=11, color=_REFERENCE_COLOR,
            transform=ax.transAxes)
    if clear_ticks:
        ax.set_xticks([])
        ax.set_yticks([])


def _grid(n: int, max_cols: int = 3) -> tuple[int, int]:
    """Rows and columns of a small-multiple grid for ``n`` panels."""
    if n <= max_cols:
        return 1, n
    if n == 4:
        return 2, 2
    cols = max_cols
    return math.ceil(n / cols), cols


def _panels(fig: Figure, n: int, max_cols: int = 3, **kwargs) -> list[Axes]:
    """``n`` panels in a grid; unused grid cells are removed."""
    rows, cols = _grid(n, max_cols)
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False, **kwargs)).ravel()
    for ax in axes[n:]:
        ax.remove()
    return list(axes[:n])


def _as_codes(x: np.ndarray) -> np.ndarray:
    """Integer class codes; non-finite entries become -1 (matches no class)."""
    arr = np.asarray(x)
    if arr.dtype.kind in "iub":
        return arr.astype(np.int64).ravel()
    f = np.asarray(arr, dtype=float).ravel()
    out = np.full(f.shape, -1, dtype=np.int64)
    ok = np.isfinite(f)
    out[ok] = f[ok].astype(np.int64)
    return out


def _check_proba(proba: np.ndarray, codes: np.ndarray, styles: Sequence[str], what: str) -> np.ndarray:
    p = np.asarray(proba, dtype=float)
    if p.ndim == 1 and len(styles) == 1:
        p = p[:, None]
    if p.ndim != 2:
        raise ValueError(f"{what} must be a 2-d (n, K) array, got shape {p.shape}")
    if p.shape[1] != len(styles):
        raise ValueError(f"{what} has {p.shape[1]} columns but {len(styles)} styles were given")
    if p.shape[0] != len(codes):
        raise ValueError(f"{what} has {p.shape[0]} rows but the labels have {len(codes)}")
    return p


def _fmt_pct(share: float) -> str:
    return f"{100 * share:.1f}%"


# --------------------------------------------------------------------------- propensity overlap


def plot_propensity_overlap(
    propensities: np.ndarray,
    logged_style: np.ndarray,
    styles: list[str],
    clip: float | None = None,
) -> Figure:
    """Overlap diagnostics of the logging policy, one panel per style.

    Panel ``k`` compares the distribution of the estimated ``P(style k | profile)`` among rows
    that logged style ``k`` (style colour) with rows that logged another style (grey), on a log
    axis from 1e-3 to 1 (smaller values are counted in the first bin). Each group is normalised
    to its own size, so a rare style is as visible as a common one. With ``clip`` (the support
    threshold) a dashed line marks it and the panel title gives the share of all rows whose
    propensity for style ``k`` falls below it, i.e. rows where ``k`` is unsupported.

    Args:
        propensities: (n, K) estimated propensities, columns in the order of ``styles``.
        logged_style: (n,) integer style codes of the logged actions.
        styles: style names; fixes panel order and colours.
        clip: support threshold to mark, or None.
    """
    title = "Propensity overlap: estimated P(style | profile), logged style vs the rest"
    codes = _as_codes(logged_style)
    if len(styles) == 0 or len(codes) == 0:
        return _no_data_figure(title)
    p = _check_proba(propensities, codes, styles, "propensities")

    colors = style_colors(styles)
    show_clip = clip is not None and np.isfinite(clip) and clip > 0
    lo = _PROPENSITY_FLOOR
    if show_clip and clip < lo:
        lo = 10 ** math.floor(math.log10(clip))
    bins = np.logspace(math.log10(lo), 0.0, 31)

    fig = _new_figure()
    axes = _panels(fig, len(styles), sharex=True)
    for k, (ax, style) in enumerate(zip(axes, styles, strict=True)):
        col = p[:, k]
        ok = np.isfinite(col)
        vals = np.clip(col[ok], lo, 1.0)
        logged = codes[ok] == k
        groups = [
            (vals[~logged], _OTHER_COLOR, "other styles"),
            (vals[logged], colors[style], f"logged {style}"),
        ]
        drawn = False
        for v, color, label in groups:
            if len(v) == 0:
                continue
            weights = np.full(len(v), 100.0 / len(v))
            ax.hist(v, bins=bins, weights=weights, color=color, alpha=0.55,
                    label=f"{label} (n={len(v):,})", histtype="stepfilled", edgecolor=color,
                    linewidth=1.0)
            drawn = True
        if not (codes == k).any():
            ax.text(0.03, 0.95, f"no rows logged {style}", transform=ax.transAxes, ha="left",
                    va="top", fontsize=8, color="firebrick")

        panel_title = style
        if show_clip:
            ax.axvline(clip, color="black", linestyle="--", linewidth=1.2,
                       label=f"support threshold {clip:g}")
            if ok.any():
                below = float(np.mean(col[ok] < clip))
                panel_title += f"\n{_fmt_pct(below)} of rows below {clip:g}"
        ax.set_title(panel_title, fontsize=10)
        ax.set_xscale("log")
        ax.set_xlim(lo, 1.0)
        ax.grid(True, which="major", alpha=0.3)
        if drawn:
            ax.legend(fontsize=7, loc="upper left" if logged.any() else "center left",
                      frameon=False)
        else:
            _note(ax, "no finite propensities", clear_ticks=False)

    _, cols = _grid(len(styles))
    for i, ax in enumerate(axes):
        if i % cols == 0:
            ax.set_ylabel("share of group (%)")
        if i >= len(styles) - cols:
            ax.set_xlabel("estimated P(style | profile), log scale")
            ax.tick_params(labelbottom=True)
    fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- policy values


def _estimator_look(name: str, extra_index: int) -> tuple[str, str]:
    if name in _ESTIMATOR_STYLE:
        return _ESTIMATOR_STYLE[name]
    i = extra_index % len(_EXTRA_ESTIMATOR_COLORS)
    return _EXTRA_ESTIMATOR_COLORS[i], _EXTRA_ESTIMATOR_MARKERS[i]


def _finite_triple(t: Sequence[float] | None) -> tuple[float, float, float] | None:
    """(value, low, high) with a finite value; non-finite bounds become the value."""
    if t is None:
        return None
    try:
        v, lo, hi = (float(x) for x in t)
    except (TypeError, ValueError):
        return None
    if not np.isfinite(v):
        return None
    lo = lo if np.isfinite(lo) else v
    hi = hi if np.isfinite(hi) else v
    return v, min(lo, v), max(hi, v)


def plot_policy_values(
    values: dict[str, dict[str, tuple[float, float, float]]],
    oracle: float | None = None,
) -> Figure:
    """Estimated value of each policy under each off-policy estimator, with 95% intervals.

    Policies are rows (first key on top); within a row each estimator is a marker with its
    interval as a horizontal error bar, in a fixed colour (DM, IPS, SNIPS, DR first, others
    after). A policy's ``"true"`` entry (known in simulation) is a short solid black vertical
    line across that policy's row; ``oracle`` (the optimal policy's true value) is a dotted
    vertical line across the whole plot. Missing or NaN estimates are skipped.

    Args:
        values: ``values[policy][estimator] = (value, low, high)``.
        oracle: true value of the optimal policy, or None.
    """
    title = "Policy value by off-policy estimator (95% intervals)"
    cleaned: dict[str, dict[str, tuple[float, float, float]]] = {}
    for policy, ests in (values or {}).items():
        row = {e: t for e, t in ((e, _finite_triple(t)) for e, t in (ests or {}).items())
               if t is not None}
        if row:
            cleaned[str(policy)] = row
    has_oracle = oracle is not None and np.isfinite(oracle)
    if not cleaned:
        return _no_data_figure(title)

    estimators = [e for e in _ESTIMATOR_ORDER if any(e in r for r in cleaned.values())]
    for r in cleaned.values():
        for e in r:
            if e != "true" and e not in estimators:
                estimators.append(e)
    extra = [e for e in estimators if e not in _ESTIMATOR_STYLE]
    looks = {e: _estimator_look(e, extra.index(e) if e in extra else 0) for e in estimators}

    policies = list(cleaned)
    n_est = max(len(estimators), 1)
    band = 0.7  # vertical space of one policy's markers
    offsets = (np.linspace(-band / 2, band / 2, n_est) if n_est > 1 else np.zeros(1))
    y_of = {p: len(policies) - 1 - i for i, p in enumerate(policies)}  # first policy on top

    fig = _new_figure()
    ax = fig.add_subplot()
    labelled: set[str] = set()
    true_labelled = False
    for policy in policies:
        y0 = y_of[policy]
        row = cleaned[policy]
        for j, est in enumerate(estimators):
            if est not in row:
                continue
            v, lo, hi = row[est]
            color, marker = looks[est]
            label = _ESTIMATOR_LABELS.get(est, est)
            ax.errorbar(v, y0 - offsets[j], xerr=[[v - lo], [hi - v]], fmt=marker,
                        color=color, markersize=7, capsize=3, elinewidth=1.6,
                        label=label if est not in labelled else None)
            labelled.add(est)
        if "true" in row:
            ax.vlines(row["true"][0], y0 - 0.45, y0 + 0.45, colors="black", linewidth=2.2,
                      label=None if true_labelled else "true value (simulation)")
            true_labelled = True
    if has_oracle:
        ax.axvline(float(oracle), color="firebrick", linestyle=":", linewidth=2,
                   label=f"oracle (optimal policy) = {float(oracle):.3g}")

    for i in range(len(policies) - 1):
        ax.axhline(i + 0.5, color="#dddddd", linewidth=0.8)
    ax.set_yticks([y_of[p] for p in policies], [p.replace("_", " ") for p in policies],
                  fontsize=11)
    ax.set_ylim(-0.6, len(policies) - 0.4)
    ax.set_xlabel("policy value (weighted outcome score per campaign)", fontsize=11)
    ax.set_ylabel("policy")
    ax.grid(True, axis="x", alpha=0.3)
    ax.set_title(title, fontsize=13)
    handles, labels = ax.get_legend_handles_labels()
    order = [_ESTIMATOR_LABELS.get(e, e) for e in estimators]
    rank = {lab: (order.index(lab) if lab in order else len(order)) for lab in labels}
    pairs = sorted(zip(handles, labels, strict=True), key=lambda hl: rank[hl[1]])
    ax.legend([h for h, _ in pairs], [lab for _, lab in pairs], loc="center left",
              bbox_to_anchor=(1.01, 0.5), fontsize=9, frameon=False, title="estimator",
              title_fontsize=9)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- feature importance


def plot_feature_importance(importances: dict[str, dict[str, float]], top: int = 20) -> Figure:
    """Top features by total gain, one horizontal-bar panel per outcome model.

    Bars show each feature's share of that model's total gain (%) over all features, so the
    bars of a panel sum to less than 100% when features fall outside the top; the panel title
    says how much the shown features cover. At most four outcomes are drawn (2x2 grid); the
    figure title says when some were left out. A model with no positive gain (e.g. a constant
    predictor) gets a note instead of bars.

    Args:
        importances: ``importances[outcome][feature] = total gain``.
        top: number of features per panel.
    """
    title = "Feature importance by outcome model (share of total gain)"
    outcomes = list(importances or {})
    if not outcomes:
        return _no_data_figure(title)
    shown = outcomes[:4]
    if len(outcomes) > 4:
        title += f" - first 4 of {len(outcomes)} outcomes"
    top = max(int(top), 1)

    fig = _new_figure()
    rows, _ = _grid(len(shown), max_cols=2)
    axes = _panels(fig, len(shown), max_cols=2)
    n_bars = max(
        min(top, sum(1 for g in (importances[o] or {}).values() if g is not None and g > 0))
        for o in shown
    )
    fontsize = 9 if rows == 1 or n_bars <= 10 else (8 if n_bars <= 14 else 7)
    slots = max(n_bars, 6)  # bars keep the same thickness in every panel, top-aligned
    for ax, outcome in zip(axes, shown, strict=True):
        gains = {
            str(f): float(g)
            for f, g in (importances[outcome] or {}).items()
            if g is not None and np.isfinite(float(g)) and float(g) > 0
        }
        total = sum(gains.values())
        unit = OUTCOME_UNITS.get(outcome)
        if total <= 0:
            ax.set_title(outcome, fontsize=10)
            _note(ax, "no positive gain\n(constant model?)")
            continue
        ranked = sorted(gains.items(), key=lambda kv: kv[1], reverse=True)[:top]
        names = [f for f, _ in ranked][::-1]
        shares = np.array([g for _, g in ranked][::-1]) / total * 100
        ax.barh(np.arange(len(names)), shares, color=_NEUTRAL_COLOR, height=0.75)
        ax.set_yticks(np.arange(len(names)), names, fontsize=fontsize)
        ax.set_ylim(len(names) - slots - 0.4, len(names) - 0.4)
        ax.set_xlim(0, shares.max() * 1.18)
        for y, s in enumerate(shares):
            ax.text(s, y, f" {s:.1f}", va="center", ha="left", fontsize=fontsize - 0.5,
                    color=_REFERENCE_COLOR)
        covered = shares.sum()
        label = outcome if unit is None else f"{outcome} ({unit})"
        ax.set_title(f"{label}\ntop {len(names)} of {len(gains)} features = {covered:.1f}% of gain",
                     fontsize=10)
        ax.set_xlabel("share of total gain (%)", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
        ax.tick_params(axis="x", labelsize=8)
    fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- calibration


def _quantile_bins(p: np.ndarray, n_bins: int) -> np.ndarray:
    """Bin index of each value in quantile bins (ties can merge bins; a constant gives one)."""
    edges = np.unique(np.quantile(p, np.linspace(0, 1, max(n_bins, 1) + 1)))
    if len(edges) <= 2:
        return np.zeros(len(p), dtype=np.int64)
    return np.clip(np.searchsorted(edges[1:-1], p, side="right"), 0, len(edges) - 2)


def plot_calibration(
    y_true: np.ndarray, proba: np.ndarray, styles: list[str], n_bins: int = 10
) -> Figure:
    """Reliability diagram of a multiclass propensity model, one panel per style.

    For style ``k``, ``proba[:, k]`` is cut into ``n_bins`` quantile bins; each bin is a point
    at (mean predicted probability, observed share of rows with ``y_true == k``) with a 95%
    normal-approximation interval. The dashed diagonal is perfect calibration. Each panel
    title gives the style's one-vs-rest Brier score, ``mean((p_k - 1[y == k])^2)``; the figure
    title gives the multiclass Brier score (sum over styles) on rows with all probabilities
    finite. Rows with a NaN probability are skipped per style.

    Args:
        y_true: (n,) integer style codes.
        proba: (n, K) predicted probabilities, columns in the order of ``styles``.
        styles: style names; fixes panel order and colours.
        n_bins: number of quantile bins.
    """
    title = "Propensity model calibration (reliability diagram, quantile bins)"
    codes = _as_codes(y_true)
    if len(styles) == 0 or len(codes) == 0:
        return _no_data_figure(title)
    p = _check_proba(proba, codes, styles, "proba")
    colors = style_colors(styles)

    fig = _new_figure()
    axes = _panels(fig, len(styles))
    for k, (ax, style) in enumerate(zip(axes, styles, strict=True)):
        col = p[:, k]
        ok = np.isfinite(col)
        pk = col[ok]
        yk = (codes[ok] == k).astype(float)
        if len(pk) == 0:
            ax.set_title(f"{style}\nBrier n/a", fontsize=10)
            _note(ax, "no finite probabilities")
            continue
        brier = float(np.mean((pk - yk) ** 2))
        b = _quantile_bins(pk, n_bins)
        nb = int(b.max()) + 1
        counts = np.bincount(b, minlength=nb)
        keep = counts > 0
        mean_p = np.bincount(b, weights=pk, minlength=nb)[keep] / counts[keep]
        obs = np.bincount(b, weights=yk, minlength=nb)[keep] / counts[keep]
        half = 1.96 * np.sqrt(np.clip(obs * (1 - obs), 0, None) / counts[keep])
        top = float(min(1.0, max(mean_p.max(), (obs + half).max()) * 1.1 + 0.02))
        ax.plot([0, top], [0, top], linestyle="--", color=_REFERENCE_COLOR, linewidth=1,
                label="perfect calibration")
        ax.errorbar(mean_p, obs, yerr=[np.minimum(half, obs), half], fmt="o-",
                    color=colors[style], markersize=5, capsize=2, linewidth=1.5,
                    label="quantile bins (95% CI)")
        ax.set_xlim(0, top)
        ax.set_ylim(0, top)
        ax.grid(True, alpha=0.3)
        n_logged = int(yk.sum())
        ax.set_title(f"{style}: Brier {brier:.3f}\nlogged in {n_logged:,} of {len(pk):,} rows",
                     fontsize=10)
        ax.legend(fontsize=7, loc="upper left", frameon=False)
        ax.tick_params(labelsize=8)

    _, cols = _grid(len(styles))
    for i, ax in enumerate(axes):
        if i % cols == 0:
            ax.set_ylabel("observed frequency of style", fontsize=9)
        if i >= len(styles) - cols:
            ax.set_xlabel("mean predicted P(style | profile)", fontsize=9)
    all_ok = np.isfinite(p).all(axis=1)
    if all_ok.any():
        onehot = codes[all_ok, None] == np.arange(len(styles))[None, :]
        multi = float(np.mean(np.sum((p[all_ok] - onehot) ** 2, axis=1)))
        title += f" - multiclass Brier {multi:.3f}"
    fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig


# --------------------------------------------------------------------------- outcome fit


def _r2(y: np.ndarray, yhat: np.ndarray) -> float:
    """Coefficient of determination; NaN when the observations are constant or too few."""
    if len(y) < 2:
        return float("nan")
    ss_tot = float(np.sum((y - y.mean()) ** 2))
    if ss_tot <= 0:
        return float("nan")
    return 1.0 - float(np.sum((y - yhat) ** 2)) / ss_tot


def plot_outcome_fit(y_true: dict[str, np.ndarray], y_pred: dict[str, np.ndarray]) -> Figure:
    """Predicted vs observed, one panel per outcome, with R² in each panel title.

    Outcomes present in both dicts are drawn in the order of ``y_true``. R² is computed on all
    rows where both values are finite; the scatter shows at most 5,000 of them (a fixed random
    sample) with transparency. The dashed diagonal is a perfect fit. R² is "n/a" when the
    observations are constant.

    Args:
        y_true: ``y_true[outcome]`` observed values, shape (n,).
        y_pred: ``y_pred[outcome]`` predictions, same shape.
    """
    title = "Outcome models: predicted vs observed"
    outcomes = [o for o in (y_true or {}) if o in (y_pred or {})]
    if not outcomes:
        return _no_data_figure(title)
    rng = np.random.default_rng(0)

    fig = _new_figure()
    axes = _panels(fig, len(outcomes))
    for ax, outcome in zip(axes, outcomes, strict=True):
        y = np.asarray(y_true[outcome], dtype=float).ravel()
        yhat = np.asarray(y_pred[outcome], dtype=float).ravel()
        if y.shape != yhat.shape:
            raise ValueError(
                f"{outcome}: y_true has {len(y)} values but y_pred has {len(yhat)}"
            )
        ok = np.isfinite(y) & np.isfinite(yhat)
        y, yhat = y[ok], yhat[ok]
        unit = OUTCOME_UNITS.get(outcome)
        suffix = "" if unit is None else f" ({unit})"
        ax.set_xlabel(f"predicted{suffix}", fontsize=9)
        ax.set_ylabel(f"observed{suffix}", fontsize=9)
        if len(y) == 0:
            ax.set_title(f"{outcome}\nR² n/a", fontsize=10)
            _note(ax, "no finite pairs")
            continue
        r2 = _r2(y, yhat)
        r2_text = "n/a" if not np.isfinite(r2) else f"{r2:.3f}"
        idx = (rng.choice(len(y), _MAX_SCATTER_POINTS, replace=False)
               if len(y) > _MAX_SCATTER_POINTS else np.arange(len(y)))
        alpha = float(np.clip(300 / len(idx), 0.08, 0.6))
        ax.scatter(yhat[idx], y[idx], s=6, alpha=alpha, color=_NEUTRAL_COLOR, edgecolors="none",
                   rasterized=True)
        lo = float(min(y.min(), yhat.min()))
        hi = float(max(y.max(), yhat.max()))
        pad = 0.04 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.1
        lo, hi = lo - pad, hi + pad
        ax.plot([lo, hi], [lo, hi], linestyle="--", color="firebrick", linewidth=1.2,
                label="perfect fit")
        ax.set_xlim(lo, hi)
        ax.set_ylim(lo, hi)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, loc="upper left", frameon=False)
        ax.tick_params(labelsize=8)
        shown = "" if len(idx) == len(y) else f", {len(idx):,} shown"
        ax.set_title(f"{outcome}\nR² = {r2_text} (n = {len(y):,}{shown})", fontsize=10)
    fig.suptitle(title, fontsize=13)
    fig.tight_layout()
    return fig
