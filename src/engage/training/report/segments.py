"""Which kinds of profiles get which recommendation: a shallow tree read as a segment table.

A depth-limited decision tree is fitted on a sample of profiles to the style the shipped
policy chooses for each; its leaves are the segments ("Software firms with a sales cycle over
30 days -> thought leadership, 38% of profiles"). The tree is a summary, not the policy: its
fidelity (the share of profiles whose chosen style it reproduces) is reported with it.
Categorical profile columns enter one-hot, so a split reads "Industry is software" rather
than a threshold on a category code; sibling leaves with the same style are merged.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.tree import DecisionTreeClassifier

from engage.contract.spec import CampaignSpec, CategoricalColumn
from engage.policy.candidates import CandidateSet
from engage.reporting.record import RARELY, Segment, SegmentSummary
from engage.training.report.wording import (
    category_words,
    column_label,
    column_unit,
    describe_plan,
    style_words,
)

MAX_DEPTH = 3
# A deeper tree is kept only if it reproduces this much more of the policy's choices.
_DEPTH_GAIN = 0.02
_MIN_LEAF_SHARE = 0.03  # no segment smaller than this share of the sample
MIXED = 0.6  # below this agreement a segment's second style is named too
#: An estimated chance of a style below which the report calls it "rarely used" (the policy
#: recommends it there only with a discount for thin evidence).


@dataclass(frozen=True)
class _Feature:
    """A column of the tree's input: a numeric profile column, or one category of one."""

    column: str
    category: str | None = None  # None: numeric


def summarise_segments(
    spec: CampaignSpec,
    context: np.ndarray,
    choice: np.ndarray,
    candidates: CandidateSet,
    propensity: np.ndarray,
    *,
    seed: int = 0,
) -> SegmentSummary:
    """The segment table of a policy's choices.

    Args:
        spec: the contract (labels of the profile columns and the styles).
        context: encoded profiles, (n, n_context).
        choice: the candidate the policy chooses for each profile, (n,).
        candidates: the policy's candidate actions.
        propensity: each profile's estimated chance of each style, (n, n_styles).
        seed: seed of the tree.
    """
    features = _features(spec)
    x = _tree_input(spec, context, features)
    y = candidates.style_codes[choice]
    tree, fidelity = _fit_tree(x, y, seed)
    leaf = tree.apply(x)
    groups = _leaf_groups(tree, 0, ())
    segments = [
        _segment(spec, features, conds, np.isin(leaf, nodes), y, choice, candidates, propensity)
        for conds, nodes in groups
    ]
    segments.sort(key=lambda s: -s.share)
    return SegmentSummary(tuple(segments), fidelity, int(tree.get_depth()), len(y))


def _features(spec: CampaignSpec) -> list[_Feature]:
    """The tree's input columns: numeric profile columns as is, categorical ones one-hot."""
    out: list[_Feature] = []
    for col in spec.context:
        if isinstance(col, CategoricalColumn):
            out.extend(_Feature(col.name, value) for value in col.values)
        else:
            out.append(_Feature(col.name))
    return out


def _tree_input(spec: CampaignSpec, context: np.ndarray, features: list[_Feature]) -> np.ndarray:
    """The encoded profiles as the tree's input (a missing category is no category)."""
    index = {name: j for j, name in enumerate(spec.context_names)}
    cols = []
    for f in features:
        raw = context[:, index[f.column]]
        if f.category is None:
            cols.append(raw)
        else:
            code = spec.column(f.column).values.index(f.category)  # type: ignore[union-attr]
            cols.append((raw == code).astype(float))
    return np.column_stack(cols)


def _fit_tree(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[DecisionTreeClassifier, float]:
    """The shallowest tree within ``_DEPTH_GAIN`` of the deepest one's fidelity."""
    min_leaf = max(5, int(np.ceil(_MIN_LEAF_SHARE * len(y))))
    fitted = []
    for depth in range(1, MAX_DEPTH + 1):
        tree = DecisionTreeClassifier(max_depth=depth, min_samples_leaf=min_leaf, random_state=seed)
        tree.fit(x, y)
        fitted.append((tree, float(np.mean(tree.predict(x) == y))))
    best = fitted[-1][1]
    return next((t, f) for t, f in fitted if f >= best - _DEPTH_GAIN)


Condition = tuple[int, bool, float]  # (feature, goes right i.e. "> threshold", threshold)


def _leaf_groups(
    tree: DecisionTreeClassifier, node: int, conds: tuple[Condition, ...]
) -> list[tuple[tuple[Condition, ...], list[int]]]:
    """Leaves as (path conditions, node ids); two sibling leaves of one style are one group."""
    t = tree.tree_
    left, right = int(t.children_left[node]), int(t.children_right[node])
    if left == -1:
        return [(conds, [node])]
    f, thr = int(t.feature[node]), float(t.threshold[node])
    lower = _leaf_groups(tree, left, (*conds, (f, False, thr)))
    upper = _leaf_groups(tree, right, (*conds, (f, True, thr)))
    if len(lower) == 1 == len(upper) and _style_of(t, lower[0][1]) == _style_of(t, upper[0][1]):
        return [(conds, lower[0][1] + upper[0][1])]
    return lower + upper


def _style_of(t: Any, nodes: list[int]) -> int:
    """The majority class of a group of leaves of the tree structure ``t`` (``tree_``)."""
    counts = sum(np.asarray(t.value[n][0]) * t.n_node_samples[n] for n in nodes)
    return int(np.argmax(counts))


def _segment(
    spec: CampaignSpec,
    features: list[_Feature],
    conds: tuple[Condition, ...],
    rows: np.ndarray,
    styles: np.ndarray,
    choice: np.ndarray,
    candidates: CandidateSet,
    propensity: np.ndarray,
) -> Segment:
    """One segment: its conditions, majority style, modal plan and thinly supported styles."""
    mine = styles[rows]
    counts = np.bincount(mine, minlength=len(spec.styles))
    style, second = (int(k) for k in np.argsort(-counts, kind="stable")[:2])
    agreement = float(counts[style] / len(mine))
    runner_up = None
    if agreement < MIXED and counts[second] > 0:
        runner_up = (style_words(spec, spec.styles[second]), float(counts[second] / len(mine)))
    picks = choice[rows][mine == style]
    modal = int(np.bincount(picks).argmax())
    median_p = np.median(propensity[rows], axis=0)
    thin = tuple(style_words(spec, s) for k, s in enumerate(spec.styles) if median_p[k] < RARELY)
    return Segment(
        conditions=describe_conditions(spec, features, conds),
        style=style_words(spec, spec.styles[style]),
        share=float(rows.mean()),
        agreement=agreement,
        runner_up=runner_up,
        plan=describe_plan(spec, candidates.frame.iloc[modal].to_dict()),
        thin_support=thin,
    )


def describe_conditions(
    spec: CampaignSpec, features: list[_Feature], conds: tuple[Condition, ...]
) -> tuple[str, ...]:
    """A path's conditions in words, one per profile column, in the spec's column order."""
    bounds: dict[str, list[float]] = {}  # column -> [lower, upper]
    chosen: dict[str, str] = {}
    excluded: dict[str, list[str]] = {}
    for f_index, right, thr in conds:
        f = features[f_index]
        if f.category is None:
            lo, hi = bounds.setdefault(f.column, [-np.inf, np.inf])
            bounds[f.column] = [max(lo, thr), hi] if right else [lo, min(hi, thr)]
        elif right:
            chosen[f.column] = f.category
        else:
            excluded.setdefault(f.column, []).append(f.category)
    out = []
    for col in spec.context:
        label = column_label(spec, col.name)
        if col.name in bounds:
            unit = column_unit(spec, col.name)
            out.append(f"{label} {_range_words(*bounds[col.name])}" + (f" {unit}" if unit else ""))
        elif col.name in chosen and isinstance(col, CategoricalColumn):
            out.append(f"{label}: {category_words(col, chosen[col.name])}")
        elif col.name in excluded and isinstance(col, CategoricalColumn):
            out.append(f"{label}: {_category_words(col, excluded[col.name])}")
    return tuple(out)


def _range_words(lo: float, hi: float) -> str:
    """``over 30``, ``up to 30`` or ``between 30 and 90`` (thresholds rounded for reading)."""
    if np.isfinite(lo) and np.isfinite(hi):
        return f"between {_nice(lo)} and {_nice(hi)}"
    return f"over {_nice(lo)}" if np.isfinite(lo) else f"up to {_nice(hi)}"


def _category_words(col: CategoricalColumn, excluded: list[str]) -> str:
    """The categories left after exclusions: the short list, or "other than ..."."""
    left = [v for v in col.values if v not in excluded]
    if len(left) <= len(excluded) or len(left) <= 2:
        return _either([category_words(col, v) for v in left])
    return "other than " + _either([category_words(col, v) for v in excluded])


def _either(names: list[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def _nice(x: float) -> str:
    """A split threshold as a person would round it: two significant digits below 10,
    whole numbers (three significant digits) above."""
    if abs(x) < 10:
        return f"{float(f'{x:.2g}'):g}"
    return f"{float(f'{x:.3g}'):,.0f}"
