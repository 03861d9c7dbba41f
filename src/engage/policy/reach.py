"""Which candidate actions a profile may get, and which one a constant or baseline policy puts
first: the support side of :class:`~engage.policy.policy.Policy`.

A profile's candidates are the shared grid (group -1) and its cluster's searched actions
(:meth:`SupportReach.candidate_index`); a candidate is allowed where the profile's estimated
propensity of its style clears the support floor, a searched one only where enough similar
logged campaigns lie near it, and within the caller's constraints. The baseline is what
marketers of similar profiles typically do; a constant policy of scope ``"supported"`` falls
back to it where the log does not support its action for the profile.
"""

from __future__ import annotations

from typing import Any

import lightgbm as lgb
import numpy as np

from engage.contract.spec import CampaignSpec
from engage.policy.candidates import CandidateSet
from engage.policy.constraints import Constraints, allowed_actions
from engage.policy.logging_policy import LoggingOptions, draw_styles, profile_seeds
from engage.policy.results import ConstantScope, PolicyMode
from engage.policy.scoring import softmax, support_discount
from engage.policy.support import ProfileClusters


def grid_support(candidates: CandidateSet, n_styles: int) -> dict[str, Any]:
    """The action-search fields (``clusters``, ``baseline``, ``shared_support``) of a policy
    whose candidates are the shared grid alone (before the search, or small test policies):
    one cluster of every profile, no baseline, support near the grid not measured."""
    return {
        "clusters": ProfileClusters.everyone(),
        "baseline": np.full((1, n_styles), -1, dtype=int),
        "shared_support": np.full((1, len(candidates)), np.nan),
    }


class SupportReach:
    """The support and pinning rules of a policy, read from its fields on every call (a base of
    :class:`~engage.policy.policy.Policy`, which holds the fields and documents them)."""

    spec: CampaignSpec
    propensity_model: lgb.Booster
    propensity_temperature: float
    candidates: CandidateSet
    typical_actions: np.ndarray
    min_propensity: float
    pessimism: float
    n_train: int
    score_sd: float
    mode: PolicyMode
    constant_action: int | None
    min_support_rows: float
    constant_scope: ConstantScope
    constant_min_propensity: float
    clusters: ProfileClusters
    baseline: np.ndarray
    shared_support: np.ndarray
    # set by the policy when it is built
    _shared_rows: np.ndarray
    _cluster_rows: list[np.ndarray]
    _supported: np.ndarray

    def propensities(self, context: np.ndarray) -> np.ndarray:
        """Estimated probability that a marketer picks each style for each profile, (n, K)."""
        raw = self.propensity_model.predict(context, raw_score=True, num_threads=1)
        return softmax(np.asarray(raw).reshape(len(context), -1), self.propensity_temperature)

    @property
    def shared(self) -> np.ndarray:
        """The candidate rows every profile may get (group -1: the grid the best constant
        is chosen from)."""
        return self._shared_rows

    def support_discount(self, prop: np.ndarray) -> np.ndarray:
        """The support discount of propensities ``prop`` (see :func:`scoring.support_discount`)."""
        return support_discount(
            prop, pessimism=self.pessimism, score_sd=self.score_sd, n_train=self.n_train
        )

    def allowed(self, prop: np.ndarray, constraints: Constraints | None = None) -> np.ndarray:
        """(n, g) mask of the shared candidates (:attr:`shared`) each profile may be
        recommended: within the support floor and ``constraints``."""
        shared = self.shared
        index = np.broadcast_to(shared, (len(prop), len(shared)))
        return self._allowed(prop, index, np.ones(index.shape, bool), constraints)

    def constant_rows(
        self, context: np.ndarray, action: int, prop: np.ndarray | None = None
    ) -> np.ndarray:
        """The candidate row the constant policy of ``action`` puts first for each profile:
        ``action`` itself, except, with :attr:`constant_scope` ``"supported"``, where the log
        does not support it for the profile (its cluster logged fewer than
        :attr:`min_support_rows` campaigns near it, or the profile's estimated propensity of its
        style is below :attr:`constant_min_propensity`): there, the profile's baseline action
        (what marketers of similar profiles typically do)."""
        return self.constant_targets(context, prop)[:, self._shared_position(action)]

    def constant_targets(self, context: np.ndarray, prop: np.ndarray | None = None) -> np.ndarray:
        """:meth:`constant_rows` of every shared candidate at once, (n, n_shared): column
        ``j`` is what the constant policy of shared candidate ``j`` puts first."""
        shared = self._shared_rows
        targets = np.broadcast_to(shared, (len(context), len(shared)))
        if self.constant_scope != "supported":
            return np.array(targets)
        prop = self.propensities(context) if prop is None else prop
        cluster = self.clusters.assign(context)
        # a count not measured (NaN) does not count as support
        supported = np.asarray(self.shared_support, dtype=float)[cluster] >= self.min_support_rows
        style = self.candidates.style_codes[shared]
        supported &= prop[:, style] >= self.constant_min_propensity
        base = self.baseline_rows(context, prop)[:, None]
        return np.where(supported | (base < 0), targets, base)

    def _shared_position(self, action: int) -> int:
        hit = np.flatnonzero(self._shared_rows == int(action))
        if not len(hit):
            raise ValueError(f"candidate {action} is not a shared candidate: it cannot be constant")
        return int(hit[0])

    def candidate_index(self, context: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each profile's candidate rows (n, m) and which of them are real (n, m): the
        shared rows first, then those of the profile's cluster, padded to the batch's
        largest cluster (padding repeats a real row and is never allowed)."""
        n = len(context)
        shared = self._shared_rows
        cluster = self.clusters.assign(context)
        sizes = np.array([len(self._cluster_rows[c]) for c in cluster])
        m = len(shared) + int(sizes.max(initial=0))
        index = np.empty((n, m), dtype=int)
        valid = np.zeros((n, m), dtype=bool)
        index[:, : len(shared)] = shared
        valid[:, : len(shared)] = True
        for i, c in enumerate(cluster):
            rows = self._cluster_rows[c]
            start = len(shared)
            index[i, start : start + len(rows)] = rows
            index[i, start + len(rows) :] = (
                rows[0] if len(rows) else (shared[0] if len(shared) else 0)
            )
            valid[i, start : start + len(rows)] = True
        return index, valid

    def _support_rows(self, context: np.ndarray, index: np.ndarray) -> np.ndarray:
        """Logged campaigns near each candidate of each profile, (n, m) (NaN: not measured)."""
        rows: np.ndarray = np.asarray(self.candidates.support_rows, dtype=float)[index]
        cluster = self.clusters.assign(context)
        shared = len(self._shared_rows)
        grid = index[:, :shared]
        rows[:, :shared] = self.shared_support[cluster[:, None], grid]
        return rows

    def _allowed(
        self,
        prop: np.ndarray,
        index: np.ndarray,
        valid: np.ndarray,
        constraints: Constraints | None,
    ) -> np.ndarray:
        """(n, m) mask of the candidates each profile may be recommended."""
        allowed = allowed_actions(
            prop,
            self.candidates.frame,
            self.candidates.style_codes,
            self.spec,
            constraints=constraints,
            min_propensity=self.min_propensity,
            index=index,
            valid=valid & self._supported[index],
        )
        return allowed

    def _pinned(
        self,
        context: np.ndarray,
        prop: np.ndarray,
        index: np.ndarray,
        logging: LoggingOptions | None = None,
    ) -> np.ndarray | None:
        """The position of the action a constant or baseline policy puts first, per profile
        (-1 where it has none); a logging policy's (``logging``: its options), the action of
        the style drawn for the profile (seeded by the profile: :mod:`.logging_policy`); None
        for a personalised policy."""
        if self.mode == "constant" and self.constant_action is not None:
            target = self.constant_rows(context, self.constant_action, prop)
        elif self.mode == "baseline":
            target = self.baseline_rows(context, prop)
        elif logging is not None:
            drawn = draw_styles(logging.probability, profile_seeds(context))
            rows = logging.rows[np.arange(len(context)), np.maximum(drawn, 0)]
            target = np.where(drawn >= 0, rows, -1)
        else:
            return None
        hit = index == target[:, None]
        return np.where(hit.any(1) & (target >= 0), hit.argmax(1), -1)

    def _logging_allowed(
        self, index: np.ndarray, valid: np.ndarray, logging: LoggingOptions
    ) -> np.ndarray:
        """(n, m) mask of the positions holding a logging policy's options: they may be served
        whatever the support floor (the logging policy served those styles)."""
        rows = logging.rows[:, None, :]
        hit = ((index[:, :, None] == rows) & (rows >= 0)).any(2)
        return np.asarray(hit & valid)

    def _typical_rows(self, context: np.ndarray, prop: np.ndarray) -> np.ndarray:
        """Each profile's typical logged action, encoded: its cluster's typical action of its
        likeliest style (the baseline), else the log-wide typical action of that style."""
        rows = self.baseline_rows(context, prop)
        out = np.asarray(self.typical_actions[prop.argmax(1)], dtype=float).copy()
        known = rows >= 0
        out[known] = self.candidates.encoded[rows[known]]
        return out

    def baseline_rows(self, context: np.ndarray, prop: np.ndarray | None = None) -> np.ndarray:
        """The candidate row of each profile's baseline action: what marketers of similar
        profiles typically do with the style they most often pick for it (-1 where the
        policy has none: a cluster without that style, or a policy without the search)."""
        prop = self.propensities(context) if prop is None else prop
        cluster = self.clusters.assign(context)
        return np.asarray(self.baseline[cluster, prop.argmax(1)], dtype=int)
