"""Profiles like this one: the clusters that decide which candidate actions a profile gets.

Training searches, for each cluster of similar profiles, the actions that the log supports
for that cluster (``engage.training.actions``); at serving time a profile gets the candidates
of its cluster. Similarity is Euclidean distance on the encoded profile with numeric columns
standardised (missing values at the mean) and each categorical column one-hot encoded at
weight ``1/sqrt(2)`` (two different categories are as far apart as one standard deviation).

Everything here is plain numpy, so the runtime core can assign a profile in microseconds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

ONE_HOT_WEIGHT = 1 / np.sqrt(2)


@dataclass(frozen=True)
class ProfileClusters:
    """Standardisation of the encoded profile and the cluster centroids.

    Attributes:
        numeric: positions of the numeric columns in the encoded profile.
        mean: their means; ``scale``: their standard deviations (1 where constant).
        categorical: positions of the categorical columns; ``n_categories``: codes of each.
        centroids: cluster centres in the standardised space, (n_clusters, dim).
    """

    numeric: tuple[int, ...]
    mean: np.ndarray
    scale: np.ndarray
    categorical: tuple[int, ...]
    n_categories: tuple[int, ...]
    centroids: np.ndarray

    @classmethod
    def everyone(cls) -> ProfileClusters:
        """One cluster that every profile is in: a policy without the action search (its
        candidates are the shared grid alone)."""
        return cls((), np.zeros(0), np.zeros(0), (), (), np.zeros((1, 0)))

    @classmethod
    def standardiser(
        cls, context: np.ndarray, categorical: list[int], n_categories: list[int]
    ) -> ProfileClusters:
        """The standardisation fitted on ``context`` (no centroids yet)."""
        numeric = [j for j in range(context.shape[1]) if j not in categorical]
        values = context[:, numeric]
        mean = np.nanmean(values, axis=0) if len(numeric) else np.zeros(0)
        scale = np.nanstd(values, axis=0) if len(numeric) else np.zeros(0)
        mean = np.where(np.isfinite(mean), mean, 0.0)
        scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
        return cls(
            tuple(numeric), mean, scale, tuple(categorical), tuple(n_categories), np.zeros((0, 0))
        )

    def transform(self, context: np.ndarray) -> np.ndarray:
        """The profiles in the standardised space, (n, dim)."""
        z = (context[:, list(self.numeric)] - self.mean) / self.scale
        parts = [np.nan_to_num(z, nan=0.0)]
        for j, k in zip(self.categorical, self.n_categories, strict=True):
            codes = context[:, j]
            hot = np.zeros((len(context), k))
            ok = np.isfinite(codes) & (codes >= 0) & (codes < k)
            hot[np.flatnonzero(ok), codes[ok].astype(int)] = ONE_HOT_WEIGHT
            parts.append(hot)
        return np.hstack(parts)

    def with_centroids(self, centroids: np.ndarray) -> ProfileClusters:
        return ProfileClusters(
            self.numeric,
            self.mean,
            self.scale,
            self.categorical,
            self.n_categories,
            np.asarray(centroids, dtype=float),
        )

    @property
    def n_clusters(self) -> int:
        return len(self.centroids)

    def assign(self, context: np.ndarray) -> np.ndarray:
        """The nearest cluster of each profile, (n,) int."""
        z = self.transform(context)
        d = (
            (z * z).sum(1, keepdims=True)
            - 2 * z @ self.centroids.T
            + (self.centroids * self.centroids).sum(1)[None, :]
        )
        return np.asarray(d.argmin(1), dtype=int)

    def to_json(self) -> dict[str, Any]:
        return {
            "numeric": list(self.numeric),
            "mean": self.mean.tolist(),
            "scale": self.scale.tolist(),
            "categorical": list(self.categorical),
            "n_categories": list(self.n_categories),
            "centroids": self.centroids.tolist(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProfileClusters:
        n_dim = len(data["numeric"]) + sum(data["n_categories"])
        return cls(
            tuple(int(j) for j in data["numeric"]),
            np.asarray(data["mean"], dtype=float),
            np.asarray(data["scale"], dtype=float),
            tuple(int(j) for j in data["categorical"]),
            tuple(int(k) for k in data["n_categories"]),
            np.asarray(data["centroids"], dtype=float).reshape(len(data["centroids"]), n_dim),
        )
