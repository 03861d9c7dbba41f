"""Action search within support: the candidate actions of each cluster of similar profiles.

A fixed grid of actions per style (mix prototypes x cadence quantiles) caps every decision at
the grid's best point. Instead, for each cluster of similar profiles
(:class:`engage.policy.support.ProfileClusters`) and each style, the search looks for the
actions that do best for those profiles *among the actions the log supports for them*:

1. **Support.** The logged actions of the style by the cluster's profiles (borrowing from the
   nearest clusters when it has fewer than ``MIN_SUPPORT_SET``) are the support set. Actions
   are compared on their numeric decisions (mix shares and e.g. cadence), each divided by its
   standard deviation in the log; categorical decisions must match. The support radius is the
   median, over the support set, of the distance to the ``support_neighbours``-th nearest other
   logged action; an action's ``support_rows`` is the number of logged actions within that
   radius. A typical logged action has about ``support_neighbours`` of them; an action far
   outside the cloud has none.
2. **Start.** The typical action of the style in the cluster (mean mix, median numbers, most
   frequent categories: the *baseline*, what such marketers usually do) and a sample of
   ``search_pool`` logged actions are scored on ``search_profiles`` of the cluster's profiles
   with the outcome models; the best by mean predicted objective are kept.
3. **Refine.** The best ones take ``search_rounds`` rounds of local steps (move a share of the
   mix from one content type to another, nudge each numeric decision up or down); a step is
   kept when it raises the mean predicted objective and the new action still has at least
   ``min_support_rows`` logged actions within the radius. So the search can walk to the edge
   of the supported region, never beyond it.

Every candidate carries its cluster (``group``), its ``support_rows`` and its kind, so
serving reports support per recommendation and refuses thinly supported searched actions.
All scoring of one round is one batched prediction. The support side (the action space,
support sets, radius and counts) is :mod:`engage.training.action_support`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from engage.contract.spec import CampaignSpec, CategoricalColumn
from engage.policy.candidates import CandidateSet
from engage.policy.encoding import FeatureBuilder
from engage.policy.support import ProfileClusters
from engage.training.action_support import (
    ActionSpace,
    Cell,
    support_count,
    support_radius,
    support_set_rows,
    typical_action,
)

CLUSTER_SAMPLE = 20_000  # profiles k-means fits on
KEPT_PER_STYLE = 4  # best starting actions kept per (cluster, style), besides the typical one
REFINED_PER_STYLE = 2  # of which the best are refined

#: Scores encoded rows (profile + decisions) by the trained objective: (n, F) -> (n,).
Scorer = Callable[[np.ndarray], np.ndarray]


@dataclass(frozen=True)
class SearchSettings:
    """How hard to search (training's values are constants of the candidate search, see
    ``TrainSettings.action_clusters`` and the following class constants)."""

    clusters: int = 0  # 0: sqrt(n / 25) clipped to [4, 40]
    profiles: int = 24
    pool: int = 32
    rounds: int = 2
    support_neighbours: int = 10
    min_support_rows: float = 5.0
    seed: int = 0


@dataclass(frozen=True)
class SearchResult:
    """The searched candidates (after ``shared``), the clusters and each cluster's baseline."""

    candidates: CandidateSet
    clusters: ProfileClusters
    baseline: np.ndarray  # (n_clusters, n_styles) candidate row of the typical action, -1: none
    metrics: dict[str, float]
    shared_support: np.ndarray | None = None  # (n_clusters, n_shared) support_rows per cluster


def n_clusters(n_rows: int, asked: int) -> int:
    """Clusters for a log of ``n_rows``: ``asked`` if given, else sqrt(n / 25) in [4, 40]."""
    if asked > 0:
        return asked
    return int(np.clip(round(np.sqrt(n_rows / 25)), 4, 40))


def fit_clusters(
    context: np.ndarray, spec: CampaignSpec, k: int, seed: int
) -> tuple[ProfileClusters, np.ndarray]:
    """Profile clusters fitted on (a sample of) ``context`` and every row's cluster."""
    builder = FeatureBuilder(spec)
    n_ctx = len(builder.context_names)
    categorical = [j for j in builder.categorical_indices if j < n_ctx]
    n_categories = [len(c.values) for c in spec.context if isinstance(c, CategoricalColumn)]
    standard = ProfileClusters.standardiser(context, categorical, n_categories)
    rng = np.random.default_rng(seed)
    sample = (
        context
        if len(context) <= CLUSTER_SAMPLE
        else context[rng.choice(len(context), CLUSTER_SAMPLE, replace=False)]
    )
    z = standard.transform(sample)
    k = max(1, min(k, len(np.unique(np.round(z, 6), axis=0))))
    km = KMeans(n_clusters=k, n_init=2, random_state=seed).fit(z)
    clusters = standard.with_centroids(km.cluster_centers_)
    return clusters, clusters.assign(context)


def search_actions(
    spec: CampaignSpec,
    log: pd.DataFrame,
    context: np.ndarray,
    score: Scorer,
    settings: SearchSettings,
    shared: pd.DataFrame | None = None,
) -> SearchResult:
    """Search each cluster's candidate actions (see the module docstring).

    Args:
        spec: the contract.
        log: the training rows (raw values; the decision columns are read).
        context: their encoded profiles.
        score: the trained objective of encoded (profile + decision) rows.
        settings: how hard to search.
        shared: actions every profile gets besides its cluster's (the grid); their
            ``support_rows`` in each cluster come back as ``shared_support``.
    """
    builder = FeatureBuilder(spec)
    k = n_clusters(len(log), settings.clusters)
    clusters, assigned = fit_clusters(context, spec, k, settings.seed)
    space = ActionSpace(spec, log)
    rng = np.random.default_rng(settings.seed)
    styles = log[spec.style.name].astype(str).to_numpy()
    vectors, cats = space.vectors(log), space.categories(log)
    order = np.argsort(
        ((clusters.centroids[:, None, :] - clusters.centroids[None, :, :]) ** 2).sum(-1), axis=1
    )
    cells: list[Cell] = []
    for c in range(clusters.n_clusters):
        members = np.flatnonzero(assigned == c)
        if len(members) == 0:
            continue
        profiles = context[rng.choice(members, min(len(members), settings.profiles), replace=False)]
        for style in spec.styles:
            rows = support_set_rows(order[c], assigned, styles == style)
            if len(rows) == 0:
                continue
            part = log.iloc[rows]
            typical = typical_action(part, spec, space)
            pool_rows = rng.choice(rows, min(len(rows), settings.pool), replace=False)
            pool = log.iloc[pool_rows][spec.decision_names].to_dict("records")
            cells.append(
                Cell(
                    c,
                    style,
                    vectors[rows],
                    cats[rows],
                    support_radius(vectors[rows], cats[rows], settings.support_neighbours),
                    profiles,
                    typical,
                    pool,
                    [],
                )
            )
    for cell in cells:  # a logged action in a sparse corner is not support enough
        ok = support_count(cell, cell.actions, space) >= settings.min_support_rows
        cell.actions = [a for a, keep in zip(cell.actions, ok, strict=True) if keep]
    _score_cells(cells, builder, score, keep=KEPT_PER_STYLE)
    for _ in range(settings.rounds):
        if not _refine(cells, builder, score, space, settings.min_support_rows):
            break
    result = _result(cells, clusters, spec, builder, space)
    if shared is None:
        return result
    support = np.zeros((clusters.n_clusters, len(shared)))
    styles_of = shared[spec.style.name].astype(str).to_numpy()
    for cell in cells:
        rows = np.flatnonzero(styles_of == cell.style)
        if len(rows):
            acts = shared.iloc[rows].to_dict("records")
            support[cell.cluster, rows] = support_count(cell, acts, space)
    return dataclasses.replace(result, shared_support=support)


def _scores(
    cells: list[Cell],
    actions: list[list[dict[str, object]]],
    builder: FeatureBuilder,
    score: Scorer,
) -> list[np.ndarray]:
    """Predicted objective of each cell's actions for each of its profiles, (profiles,
    actions) per cell; all in one batch."""
    blocks, sizes = [], []
    for cell, acts in zip(cells, actions, strict=True):
        if not acts:
            sizes.append((0, len(cell.profiles)))
            continue
        enc = builder.encode_decisions(pd.DataFrame(acts, columns=builder.decision_names))
        blocks.append(builder.cross(cell.profiles, enc))
        sizes.append((len(acts), len(cell.profiles)))
    flat = score(np.vstack(blocks)) if blocks else np.zeros(0)
    out, start = [], 0
    for n_act, n_prof in sizes:
        chunk = flat[start : start + n_act * n_prof].reshape(n_prof, n_act) if n_act else None
        out.append(np.zeros((n_prof, 0)) if chunk is None else chunk)
        start += n_act * n_prof
    return out


def _score_cells(cells: list[Cell], builder: FeatureBuilder, score: Scorer, keep: int) -> None:
    """Keep each cell's ``keep`` pool actions that together do best for its profiles: the
    best on average first, then greedily the action that most raises the mean over profiles
    of their best kept action (so the kept actions serve different profiles of the cluster,
    not four variants of the average's favourite)."""
    matrices = _scores(cells, [c.actions for c in cells], builder, score)
    for cell, q in zip(cells, matrices, strict=True):
        if q.shape[1] == 0:
            cell.actions, cell.values, cell.serves = [], [], []
            continue
        chosen = [int(np.argmax(q.mean(0)))]
        best = q[:, chosen[0]].copy()
        while len(chosen) < min(keep, q.shape[1]):
            gain = np.maximum(q, best[:, None]).mean(0)
            gain[chosen] = -np.inf
            j = int(np.argmax(gain))
            if gain[j] <= best.mean() + 1e-12:
                break
            chosen.append(j)
            best = np.maximum(best, q[:, j])
        cell.actions = [cell.actions[j] for j in chosen]
        _assign(cell, q[:, chosen])


def _assign(cell: Cell, q: np.ndarray) -> None:
    """Which profiles each kept action serves (is best for), and its mean over them."""
    owner = q.argmax(1)
    cell.serves = [owner == j for j in range(q.shape[1])]
    cell.values = [
        float(q[m, j].mean()) if m.any() else float(q[:, j].mean())
        for j, m in enumerate(cell.serves)
    ]


def _refine(
    cells: list[Cell],
    builder: FeatureBuilder,
    score: Scorer,
    space: ActionSpace,
    min_rows: float,
) -> bool:
    """One round of local steps for each cell's best actions; whether any action moved."""
    proposals: list[list[dict[str, object]]] = []
    owners: list[list[int]] = []
    for cell in cells:
        steps, owner = [], []
        for j, action in enumerate(cell.actions[:REFINED_PER_STYLE]):
            near = space.steps(action)
            if near:
                ok = support_count(cell, near, space) >= min_rows
                near = [s for s, keep in zip(near, ok, strict=True) if keep]
            steps += near
            owner += [j] * len(near)
        proposals.append(steps)
        owners.append(owner)
    matrices = _scores(cells, proposals, builder, score)
    moved = False
    for cell, steps, owner, q in zip(cells, proposals, owners, matrices, strict=True):
        for j in range(min(REFINED_PER_STYLE, len(cell.actions))):
            mine = [p for p, o in enumerate(owner) if o == j]
            if not mine:
                continue
            served = cell.serves[j] if cell.serves and cell.serves[j].any() else slice(None)
            means = {p: float(q[served, p].mean()) for p in mine}
            best = max(mine, key=lambda p: means[p])
            if means[best] > cell.values[j] + 1e-12:
                cell.actions[j], cell.values[j] = steps[best], means[best]
                moved = True
    return moved


def _result(
    cells: list[Cell],
    clusters: ProfileClusters,
    spec: CampaignSpec,
    builder: FeatureBuilder,
    space: ActionSpace,
) -> SearchResult:
    rows: list[dict[str, object]] = []
    group: list[int] = []
    kinds: list[str] = []
    support: list[float] = []
    baseline = np.full((clusters.n_clusters, len(spec.styles)), -1, dtype=int)
    for cell in cells:
        actions = [cell.typical] + _distinct(cell.actions, cell.typical, builder)
        counts = support_count(cell, actions, space)
        baseline[cell.cluster, spec.styles.index(cell.style)] = len(rows)
        for j, action in enumerate(actions):
            rows.append(action)
            group.append(cell.cluster)
            kinds.append("typical" if j == 0 else "search")
            support.append(float(counts[j]))
    frame = pd.DataFrame(rows, columns=spec.decision_names)
    encoded = builder.encode_decisions(frame)
    candidates = CandidateSet(
        frame=frame,
        encoded=encoded,
        style_codes=encoded[:, 0].astype(int),
        group=np.array(group, dtype=int),
        support_rows=np.array(support, dtype=float),
        kind=np.array(kinds, dtype=object),
    )
    sizes = np.bincount(candidates.group, minlength=clusters.n_clusters)
    metrics = {
        "search.clusters": float(clusters.n_clusters),
        "search.candidates": float(len(frame)),
        "search.candidates_per_cluster_max": float(sizes.max(initial=0)),
    }
    return SearchResult(candidates, clusters, baseline, metrics)


def _distinct(
    actions: list[dict[str, object]], typical: dict[str, object], builder: FeatureBuilder
) -> list[dict[str, object]]:
    """``actions`` without repeats (nor the typical action), order kept."""
    seen = {tuple(str(typical[c]) for c in builder.decision_names)}
    out = []
    for action in actions:
        key = tuple(str(action[c]) for c in builder.decision_names)
        if key not in seen:
            seen.add(key)
            out.append(action)
    return out


def merged(shared: CandidateSet, searched: CandidateSet) -> tuple[CandidateSet, int]:
    """The shared candidates (the grid, group -1) followed by the searched ones; the offset
    of the searched rows."""
    frame = pd.concat([shared.frame, searched.frame], ignore_index=True)
    return (
        CandidateSet(
            frame=frame,
            encoded=np.vstack([shared.encoded, searched.encoded]),
            style_codes=np.concatenate([shared.style_codes, searched.style_codes]),
            group=np.concatenate([np.full(len(shared), -1), searched.group]),
            support_rows=np.concatenate([np.asarray(shared.support_rows), searched.support_rows]),
            kind=np.concatenate([np.asarray(shared.kind), searched.kind]),
        ),
        len(shared),
    )
