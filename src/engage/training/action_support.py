"""The action search's support: the logged actions near a candidate (step 1 of
:mod:`engage.training.actions`).

Actions are compared on their numeric decisions (mix shares and e.g. cadence), each divided by
its standard deviation in the log; categorical decisions must match. A (cluster, style) cell's
support set is the style's logged actions by the cluster's profiles (borrowing from the nearest
clusters up to ``MIN_SUPPORT_SET``); its radius is the median distance of a logged action to
its ``k``-th nearest same-category neighbour; an action's support count is the number of the
set's actions within that radius. :class:`ActionSpace` also gives the local steps the
refinement takes from an action.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.neighbors import KDTree

from engage.contract.spec import CampaignSpec, CategoricalColumn

MIN_SUPPORT_SET = 30  # logged actions a (cluster, style) support set borrows up to
MIX_STEPS = (0.1, 0.03)  # shares of the mix moved by one refinement step
NUMERIC_STEPS = (0.5, 0.15)  # standard deviations a numeric decision moves by one step


class ActionSpace:
    """The log's decisions as numeric vectors for distances, and how to step through them."""

    def __init__(self, spec: CampaignSpec, log: pd.DataFrame) -> None:
        self.spec = spec
        self.mix = list(spec.mix_columns)
        self.numeric = [
            c.name for c in spec.extra_decisions if not isinstance(c, CategoricalColumn)
        ]
        self.categorical = [
            c.name for c in spec.extra_decisions if isinstance(c, CategoricalColumn)
        ]
        cols = self.mix + self.numeric
        values = log[cols].to_numpy(float) if cols else np.zeros((len(log), 0))
        sd = np.nanstd(values, axis=0) if cols else np.zeros(0)
        self.scale = np.where(np.isfinite(sd) & (sd > 0), sd, 1.0)
        self.lo = np.nanmin(values, axis=0) if cols else np.zeros(0)
        self.hi = np.nanmax(values, axis=0) if cols else np.zeros(0)

    def vectors(self, frame: pd.DataFrame) -> np.ndarray:
        cols = self.mix + self.numeric
        if not cols:
            return np.zeros((len(frame), 0))
        return np.nan_to_num(frame[cols].to_numpy(float) / self.scale, nan=0.0)

    def categories(self, frame: pd.DataFrame) -> np.ndarray:
        if not self.categorical:
            return np.zeros(len(frame), dtype=object)
        return frame[self.categorical].astype(str).agg("|".join, axis=1).to_numpy()

    def steps(self, action: dict[str, object]) -> list[dict[str, object]]:
        """The actions one local step away from ``action`` (mix shares stay a distribution)."""
        out: list[dict[str, object]] = []
        shares = np.array([float(action[c]) for c in self.mix])  # type: ignore[arg-type]
        for delta in MIX_STEPS:
            for a in range(len(self.mix)):
                for b in range(len(self.mix)):
                    if a == b or shares[a] < delta - 1e-9:
                        continue
                    moved = shares.copy()
                    moved[a] -= delta
                    moved[b] += delta
                    step = dict(action)
                    step.update(zip(self.mix, np.round(moved, 4).tolist(), strict=True))
                    out.append(step)
        for j, name in enumerate(self.numeric):
            k = len(self.mix) + j
            for frac in NUMERIC_STEPS:
                for sign in (-1.0, 1.0):
                    value = float(action[name]) + sign * frac * self.scale[k]  # type: ignore[arg-type]
                    value = float(np.clip(value, self.lo[k], self.hi[k]))
                    if value != float(action[name]):  # type: ignore[arg-type]
                        step = dict(action)
                        step[name] = round(value, 4)
                        out.append(step)
        return out


@dataclass
class Cell:
    """One (cluster, style): its support set, profiles and actions."""

    cluster: int
    style: str
    support: np.ndarray  # support set vectors
    support_cats: np.ndarray
    radius: float
    profiles: np.ndarray  # encoded contexts scored
    typical: dict[str, object]
    actions: list[dict[str, object]]  # kept actions, best first (typical not among them)
    values: list[float]  # each kept action's mean predicted objective over the profiles it serves
    serves: list[np.ndarray] | None = None  # which of the profiles each kept action is best for


def support_set_rows(nearest: np.ndarray, assigned: np.ndarray, of_style: np.ndarray) -> np.ndarray:
    """Rows of the style logged by the cluster's profiles, plus the nearest clusters' until
    there are ``MIN_SUPPORT_SET`` (or no more clusters)."""
    rows = np.zeros(0, dtype=int)
    for other in nearest:
        rows = np.concatenate([rows, np.flatnonzero((assigned == other) & of_style)])
        if len(rows) >= MIN_SUPPORT_SET:
            break
    return rows


def typical_action(part: pd.DataFrame, spec: CampaignSpec, space: ActionSpace) -> dict[str, object]:
    """Mean mix, median numbers and the most frequent categories of ``part``."""
    action: dict[str, object] = {spec.style.name: str(part[spec.style.name].iloc[0])}
    if space.mix:
        mix = part[space.mix].to_numpy(float).mean(0)
        mix = np.clip(mix, 0, None)
        mix = mix / mix.sum() if mix.sum() > 0 else np.full(len(mix), 1 / len(mix))
        action.update(zip(space.mix, np.round(mix, 4).tolist(), strict=True))
    for name in space.numeric:
        action[name] = round(float(part[name].median()), 4)
    for name in space.categorical:
        action[name] = part[name].mode().iloc[0]
    return action


def support_radius(vectors: np.ndarray, cats: np.ndarray, k: int, sample: int = 500) -> float:
    """Median distance from a logged action to its ``k``-th nearest same-category neighbour
    (over a sample of at most ``sample`` of them, neighbours among all)."""
    n = len(vectors)
    if vectors.shape[1] == 0:
        return float("inf")
    if n < 2:
        return 0.0
    probe = (
        np.arange(n) if n <= sample else np.random.default_rng(0).choice(n, sample, replace=False)
    )
    rank = min(k, n - 1)  # the rank-th nearest other action
    kth = np.full(len(probe), np.inf)  # inf: fewer than rank others of its category
    for cat in np.unique(cats[probe]) if rank >= 1 else ():
        members = cats == cat
        if members.sum() - 1 < rank:
            continue
        mine = np.flatnonzero(cats[probe] == cat)
        # each probe is in the tree, at distance 0 (first): its rank-th other is column rank
        dist, _ = KDTree(vectors[members]).query(vectors[probe[mine]], k=rank + 1)
        kth[mine] = dist[:, rank]
    finite = kth[np.isfinite(kth)]
    return float(np.median(finite)) if len(finite) else 0.0


def support_count(cell: Cell, actions: list[dict[str, object]], space: ActionSpace) -> np.ndarray:
    """How many of the cell's logged actions lie within its radius of each action."""
    if not actions:
        return np.zeros(0)
    frame = pd.DataFrame(actions)
    v, c = space.vectors(frame), space.categories(frame)
    counts = np.zeros(len(v))
    for cat in np.unique(c):
        mine = np.flatnonzero(c == cat)
        support = cell.support[cell.support_cats == cat]
        if not len(support):
            continue
        if v.shape[1] == 0 or not np.isfinite(cell.radius):  # no numeric decision to compare
            counts[mine] = len(support)
            continue
        tree = KDTree(support)
        counts[mine] = tree.query_radius(v[mine], r=cell.radius + 1e-9, count_only=True)
    return counts
