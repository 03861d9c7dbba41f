"""The candidate-action space: what a policy may recommend, kept within the data's support.

Candidates are built per style from what marketers actually did with that style: posting-mix
prototypes (k-means centroids of the logged mixes of the style), cadence and other numeric
decisions at quantiles of their logged values for the style, and the categorical decision
combinations logged with the style. So a recommendation never extrapolates into mixes or
cadences nobody has tried with that style.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.cluster import KMeans

from engage.contract.spec import CampaignSpec, CategoricalColumn
from engage.policy.encoding import FeatureBuilder

DEFAULT_QUANTILES = (0.1, 0.3, 0.5, 0.7, 0.9)


@dataclass
class CandidateSet:
    """A table of candidate actions with their encoded decision matrix.

    Attributes:
        frame: one row per candidate, the log's decision columns with raw values.
        encoded: the same rows encoded for the model (``FeatureBuilder.encode_decisions``).
        style_codes: the style code of each candidate.
        group: the profile cluster a candidate belongs to (``engage.policy.support``), or -1
            for a candidate every profile may get (the shared grid of logged prototypes, which
            the constant action comes from).
        support_rows: how many logged campaigns of the candidate's style, by profiles of its
            cluster, lie within the support radius of the action (NaN where not measured:
            the shared grid's counts are per cluster, ``Policy.shared_support``).
        kind: ``"search"`` (found by the action search), ``"typical"`` (what the cluster's
            marketers typically do with the style: the baseline) or ``"grid"``.
    """

    frame: pd.DataFrame
    encoded: np.ndarray
    style_codes: np.ndarray
    group: np.ndarray
    support_rows: np.ndarray
    kind: np.ndarray

    def __len__(self) -> int:
        return len(self.frame)


def _mix_prototypes(mixes: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Distinct mix prototypes: the mean mix plus k-means centroids, rounded to 0.01."""
    if len(mixes) == 0:
        return np.empty((0, mixes.shape[1]))
    protos = [mixes.mean(0)]
    uniq = np.unique(np.round(mixes, 4), axis=0)
    k_eff = min(k, len(uniq))
    if k_eff >= 2:
        km = KMeans(n_clusters=k_eff, n_init=3, random_state=seed).fit(
            mixes[:: max(1, len(mixes) // 20000)]
        )
        protos.extend(km.cluster_centers_)
    out = np.clip(np.array(protos), 0, None)
    out = np.round(out / out.sum(1, keepdims=True), 2)
    out[:, -1] = np.round(1 - out[:, :-1].sum(1), 2)  # exact sum after rounding
    return np.unique(out, axis=0)


def build_candidates(
    log: pd.DataFrame,
    spec: CampaignSpec,
    *,
    n_mix_prototypes: int = 4,
    quantiles: tuple[float, ...] = DEFAULT_QUANTILES,
    max_categorical_combos: int = 6,
    seed: int = 0,
) -> CandidateSet:
    """Candidate actions supported by a (validated) log.

    Args:
        log: clean log rows (after validation).
        spec: the contract.
        n_mix_prototypes: k-means centroids per style, on top of the style's mean mix.
        quantiles: quantiles of each numeric decision, per style.
        max_categorical_combos: most frequent categorical-decision combinations per style.
        seed: k-means seed.
    """
    builder = FeatureBuilder(spec)
    numeric = [c.name for c in spec.extra_decisions if not isinstance(c, CategoricalColumn)]
    categorical = [c.name for c in spec.extra_decisions if isinstance(c, CategoricalColumn)]
    rows: list[dict[str, object]] = []
    for style in spec.styles:
        part = log[log[spec.style.name] == style]
        if part.empty:
            continue
        mixes = (
            _mix_prototypes(part[spec.mix_columns].to_numpy(float), n_mix_prototypes, seed)
            if spec.mix_columns
            else np.empty((1, 0))
        )
        num_values = [
            np.unique(np.round(np.quantile(part[c].to_numpy(float), quantiles), 1)) for c in numeric
        ]
        if categorical:
            combos = (
                part[categorical]
                .astype(str)
                .value_counts()
                .head(max_categorical_combos)
                .index.tolist()
            )
            combos = [c if isinstance(c, tuple) else (c,) for c in combos]
        else:
            combos = [()]
        for mix, nums, cats in itertools.product(mixes, itertools.product(*num_values), combos):
            row: dict[str, object] = {spec.style.name: style}
            row.update(zip(spec.mix_columns, map(float, mix), strict=True))
            row.update(zip(numeric, map(float, nums), strict=True))
            row.update(zip(categorical, cats, strict=True))
            rows.append(row)
    frame = pd.DataFrame(rows, columns=spec.decision_names)
    encoded = builder.encode_decisions(frame)
    n = len(frame)
    return CandidateSet(
        frame=frame,
        encoded=encoded,
        style_codes=encoded[:, 0].astype(int),
        group=np.full(n, -1, dtype=int),
        support_rows=np.full(n, np.nan),
        kind=np.full(n, "grid", dtype=object),
    )
