"""Peer policy learners for the policy-quality benchmark, over one joint discrete action set.

The peers (EconML, CausalML, Vowpal Wabbit) choose among a finite set of actions, so the
benchmark gives them a *joint discrete action set* learned from the training log only
(:class:`JointActions`):

* ``style`` track: one action per style (the world fixes mix and cadence per style);
* ``full`` track: per style, k-means (k=3) on the style's logged posting mixes x 2 cadence
  levels (the 25th and 75th percentiles of the style's logged cadence, i.e. the medians of
  its lower and upper halves) = up to 30 joint actions. Each logged row is mapped to the
  nearest action of its logged style (squared mix distance + squared log-cadence distance,
  which for the full 3 x 2 product is exactly "nearest centroid x nearest cadence level").
  An action with fewer than ``min_rows`` mapped rows is dropped and its rows re-mapped, so
  that every arm has data in every cross-fitting fold.

Every adapter has the same small interface: ``fit(X, action, reward, propensity)`` on the
training log (``action`` = joint action index, ``reward`` = the spec-weighted objective of the
logged outcomes, ``propensity`` = the joint logging propensity) and ``choose(X)`` -> action
index per row. All tree models are LightGBM with the same settings (:func:`lgbm_params`).

The peer libraries are imported lazily inside the adapters, so this module imports in the
product's venv, where they are not installed.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engage.simulation.world import GOALS, INDUSTRIES, MIX_COLUMNS, STYLES, Actions

#: Which peer library each peer contender needs (for the "missing peer" check).
PEER_MODULES: dict[str, str] = {
    "econml_dr": "econml",
    "econml_drpf": "econml",
    "causalml_x": "causalml",
    "vw_cb_adf": "vowpalwabbit",
}

CATEGORICAL_VALUES: dict[str, list[str]] = {
    "industry": list(INDUSTRIES),
    "market": ["b2c", "b2b"],
    "goal": list(GOALS),
}
#: Heavy-tailed context numbers, log1p-transformed before standardising (VW is linear).
LOG_COLUMNS = (
    "employees",
    "sales_cycle_days",
    "price_point",
    "followers",
    "team_hours",
    "ad_budget",
)


def lgbm_params(seed: int, n_estimators: int = 200, learning_rate: float = 0.05) -> dict[str, Any]:
    """The LightGBM settings every peer's base learners use."""
    return {
        "n_estimators": n_estimators,
        "learning_rate": learning_rate,
        "num_leaves": 31,
        "min_child_samples": 20,
        "subsample": 1.0,
        "colsample_bytree": 1.0,
        "random_state": seed,
        "n_jobs": 1,
        "verbose": -1,
    }


def lgbm_regressor(seed: int, n_estimators: int = 200, learning_rate: float = 0.05):
    import lightgbm as lgb

    return lgb.LGBMRegressor(**lgbm_params(seed, n_estimators, learning_rate))


def lgbm_classifier(seed: int, n_estimators: int = 200, learning_rate: float = 0.05):
    import lightgbm as lgb

    return lgb.LGBMClassifier(**lgbm_params(seed, n_estimators, learning_rate))


# ---------------------------------------------------------------------- context features


@dataclass
class PeerFeatures:
    """The peers' context matrix: one-hot categoricals, log1p of heavy-tailed numbers, every
    column standardised with the training log's mean and sd (the same matrix for every peer;
    tree models are indifferent to the monotone transforms, the linear VW needs them)."""

    numeric: list[str]
    mean: np.ndarray
    sd: np.ndarray
    names: list[str] = field(default_factory=list)

    @classmethod
    def fit(cls, profiles: pd.DataFrame) -> PeerFeatures:
        numeric = [c for c in profiles.columns if c not in CATEGORICAL_VALUES and _is_context(c)]
        raw = cls._raw(profiles, numeric)
        mean, sd = raw.mean(0), raw.std(0)
        sd[sd < 1e-12] = 1.0
        names = [*numeric] + [f"{c}={v}" for c, vals in CATEGORICAL_VALUES.items() for v in vals]
        return cls(numeric=numeric, mean=mean, sd=sd, names=names)

    @staticmethod
    def _raw(profiles: pd.DataFrame, numeric: list[str]) -> np.ndarray:
        cols = []
        for c in numeric:
            x = profiles[c].to_numpy(float)
            cols.append(np.log1p(np.maximum(x, 0)) if c in LOG_COLUMNS else x)
        for c, vals in CATEGORICAL_VALUES.items():
            v = profiles[c].astype(str).to_numpy()
            cols.extend((v == level).astype(float) for level in vals)
        return np.column_stack(cols)

    def transform(self, profiles: pd.DataFrame) -> np.ndarray:
        return (self._raw(profiles, self.numeric) - self.mean) / self.sd


_CONTEXT = {
    "industry",
    "market",
    "employees",
    "innovation",
    "shareability",
    "sales_cycle_days",
    "price_point",
    "audience_tech_savviness",
    "followers",
    "service_load",
    "team_hours",
    "goal",
    "ad_budget",
}


def _is_context(column: str) -> bool:
    return column in _CONTEXT


# ---------------------------------------------------------------------- joint action set


@dataclass
class JointActions:
    """The joint discrete actions the peers choose among (see the module docstring)."""

    style: np.ndarray  # (K,) style codes
    mix: np.ndarray  # (K, 5)
    cadence: np.ndarray  # (K,)
    share_in_style: np.ndarray  # (K,) share of the style's training rows mapped to the action
    rows: np.ndarray  # (K,) training rows mapped to the action

    def __len__(self) -> int:
        return len(self.style)

    @property
    def labels(self) -> list[str]:
        """Readable, unique names (their sorted order differs from the index order)."""
        return [
            f"{STYLES[s]}|a{j:02d}|{c:g}ppw"
            for j, (s, c) in enumerate(zip(self.style, self.cadence, strict=True))
        ]

    @property
    def baseline(self) -> int:
        """The most frequent logged action: the control / baseline arm of the effect learners."""
        return int(np.argmax(self.rows))

    def actions(self, idx: np.ndarray | None = None) -> Actions:
        idx = np.arange(len(self)) if idx is None else np.asarray(idx, dtype=int)
        return Actions(self.style[idx], self.mix[idx], self.cadence[idx])

    def assign(self, log: pd.DataFrame) -> np.ndarray:
        """Index of the nearest action of each row's logged style."""
        style = log["style"].map({s: i for i, s in enumerate(STYLES)}).to_numpy(int)
        mix = log[MIX_COLUMNS].to_numpy(float)
        lcad = np.log(log["posts_per_week"].to_numpy(float))
        d = ((mix[:, None, :] - self.mix[None, :, :]) ** 2).sum(-1)
        d = d + (lcad[:, None] - np.log(self.cadence)[None, :]) ** 2
        d = np.where(style[:, None] == self.style[None, :], d, np.inf)
        if np.isinf(d.min(1)).any():
            raise ValueError("a logged style has no joint action")
        return d.argmin(1)

    @classmethod
    def from_log(
        cls, log: pd.DataFrame, track: str, seed: int, k_mix: int = 3, min_rows: int = 10
    ) -> JointActions:
        """Learn the joint actions of a track from a training log."""
        styles = log["style"].map({s: i for i, s in enumerate(STYLES)}).to_numpy(int)
        st, mx, cd = [], [], []
        for s in range(len(STYLES)):
            part = log[styles == s]
            if part.empty:
                continue
            mixes = part[MIX_COLUMNS].to_numpy(float)
            cads = part["posts_per_week"].to_numpy(float)
            if track == "style":
                st.append(s)
                mx.append(mixes.mean(0))
                cd.append(float(np.median(cads)))
                continue
            centroids = _kmeans(mixes, k_mix, seed)
            levels = np.unique(np.round(np.quantile(cads, [0.25, 0.75]), 1))
            for m in centroids:
                for c in levels:
                    st.append(s)
                    mx.append(m)
                    cd.append(float(max(c, 0.1)))
        joint = cls(np.array(st), np.array(mx), np.array(cd), np.zeros(len(st)), np.zeros(len(st)))
        while True:  # drop thin actions (never a style's last one) and re-map their rows
            a = joint.assign(log)
            counts = np.bincount(a, minlength=len(joint))
            thin = [
                j
                for j in np.argsort(counts)
                if counts[j] < min_rows and (joint.style == joint.style[j]).sum() > 1
            ]
            if not thin:
                break
            keep = np.setdiff1d(np.arange(len(joint)), [thin[0]])
            joint = cls(
                joint.style[keep],
                joint.mix[keep],
                joint.cadence[keep],
                joint.share_in_style[keep],
                joint.rows[keep],
            )
        per_style = np.bincount(joint.style[a], minlength=len(STYLES))
        joint.rows = counts.astype(float)
        joint.share_in_style = counts / np.maximum(per_style[joint.style], 1)
        return joint

    def describe(self) -> list[dict[str, Any]]:
        return [
            {
                "label": lab,
                "style": STYLES[int(s)],
                "mix": [round(float(v), 3) for v in m],
                "posts_per_week": float(c),
                "rows": int(r),
            }
            for lab, s, m, c, r in zip(
                self.labels, self.style, self.mix, self.cadence, self.rows, strict=True
            )
        ]


def _kmeans(mixes: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    uniq = np.unique(np.round(mixes, 6), axis=0)
    k_eff = min(k, len(uniq))
    if k_eff < 2:
        return mixes.mean(0, keepdims=True)
    km = KMeans(n_clusters=k_eff, n_init=4, random_state=seed).fit(mixes)
    c = np.clip(km.cluster_centers_, 0, None)
    return c / c.sum(1, keepdims=True)


# ---------------------------------------------------------------------- column order


def arm_values_from_sorted(
    effects: np.ndarray, sorted_groups: Sequence[Any], labels: Sequence[Any], control: Any
) -> np.ndarray:
    """Per-arm values in ``labels`` order from effect columns in ``sorted_groups`` order.

    CausalML's multi-arm meta-learners return one effect column per treatment group in SORTED
    group order (``np.unique``), not in the order the caller listed the arms; the control arm
    has no column (its effect is 0). Returns shape (n, len(labels)), the control's column 0.
    """
    effects = np.asarray(effects, dtype=float)
    groups = list(sorted_groups)
    if effects.ndim != 2 or effects.shape[1] != len(groups):
        raise ValueError(f"{effects.shape} effects for {len(groups)} groups")
    if groups != sorted(groups):
        raise ValueError("sorted_groups is not sorted")
    pos = {g: i for i, g in enumerate(groups)}
    out = np.zeros((len(effects), len(labels)))
    for j, lab in enumerate(labels):
        if lab == control:
            continue
        if lab not in pos:
            raise KeyError(f"arm {lab!r} has no effect column")
        out[:, j] = effects[:, pos[lab]]
    return out


# ---------------------------------------------------------------------- adapters


class PeerLearner:
    """Interface of a peer: fit on the training log, then choose an action per profile."""

    name = "peer"

    def __init__(
        self, joint: JointActions, seed: int, n_estimators: int = 200, learning_rate: float = 0.05
    ) -> None:
        self.joint = joint
        self.seed = seed
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate

    def regressor(self):
        return lgbm_regressor(self.seed, self.n_estimators, self.learning_rate)

    def classifier(self):
        return lgbm_classifier(self.seed, self.n_estimators, self.learning_rate)

    def fit(
        self, X: np.ndarray, action: np.ndarray, reward: np.ndarray, propensity: np.ndarray
    ) -> None:
        raise NotImplementedError

    def choose(self, X: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        return {"lgbm": lgbm_params(self.seed, self.n_estimators, self.learning_rate)}

    def _order(self) -> list[int]:
        """Arms with the baseline first. EconML treats the first (sorted) category as control
        and rejects unsorted numeric categories, so arms are recoded by their position here."""
        base = self.joint.baseline
        return [base] + [a for a in range(len(self.joint)) if a != base]

    def _recode(self, action: np.ndarray) -> np.ndarray:
        code = np.empty(len(self.joint), dtype=int)
        code[self.order] = np.arange(len(self.order))
        return code[action]


class EconMLDR(PeerLearner):
    """``econml.dr.DRLearner``: multi-treatment DR-learner; policy = argmax of the estimated
    effect vs the baseline arm (baseline effect 0)."""

    name = "econml_dr"

    def __init__(
        self,
        joint,
        seed,
        n_estimators=200,
        learning_rate=0.05,
        cv: int = 2,
        min_propensity: float = 0.01,
    ):
        super().__init__(joint, seed, n_estimators, learning_rate)
        self.cv, self.min_propensity = cv, min_propensity

    def fit(self, X, action, reward, propensity):
        from econml.dr import DRLearner

        self.order = self._order()
        self.model = DRLearner(
            model_propensity=self.classifier(),
            model_regression=self.regressor(),
            model_final=self.regressor(),
            categories="auto",
            cv=self.cv,
            min_propensity=self.min_propensity,
            random_state=self.seed,
        )
        self.model.fit(reward, self._recode(action), X=X)

    def choose(self, X):
        eff = np.asarray(self.model.const_marginal_effect(X)).reshape(len(X), -1)
        values = np.zeros((len(X), len(self.joint)))
        values[:, self.order[1:]] = eff
        return values.argmax(1)

    def settings(self):
        return {
            **super().settings(),
            "class": "econml.dr.DRLearner",
            "cv": self.cv,
            "min_propensity": self.min_propensity,
            "model_final": "LGBMRegressor (one per arm)",
        }


class EconMLDRPolicyForest(PeerLearner):
    """``econml.policy.DRPolicyForest`` with LightGBM nuisance models."""

    name = "econml_drpf"

    def __init__(
        self,
        joint,
        seed,
        n_estimators=200,
        learning_rate=0.05,
        cv: int = 2,
        min_propensity: float = 0.01,
        trees: int = 100,
        max_rows: int | None = None,
        n_jobs: int = 1,
    ):
        super().__init__(joint, seed, n_estimators, learning_rate)
        self.cv, self.min_propensity, self.trees = cv, min_propensity, trees
        self.max_rows, self.n_jobs = max_rows, n_jobs

    def fit(self, X, action, reward, propensity):
        from econml.policy import DRPolicyForest

        if self.max_rows and len(X) > self.max_rows:
            rng = np.random.default_rng(self.seed)
            keep = np.sort(rng.choice(len(X), self.max_rows, replace=False))
            X, action, reward = X[keep], action[keep], reward[keep]
        present = set(np.unique(action).tolist())
        self.order = [a for a in self._order() if a in present]
        code = {a: i for i, a in enumerate(self.order)}
        self.model = DRPolicyForest(
            model_regression=self.regressor(),
            model_propensity=self.classifier(),
            min_propensity=self.min_propensity,
            categories="auto",
            cv=self.cv,
            n_estimators=self.trees,
            random_state=self.seed,
            n_jobs=self.n_jobs,
        )
        self.model.fit(reward, np.array([code[a] for a in action]), X=X)

    def choose(self, X):
        return np.asarray(self.order)[np.asarray(self.model.predict(X), dtype=int)]

    def settings(self):
        return {
            **super().settings(),
            "class": "econml.policy.DRPolicyForest",
            "cv": self.cv,
            "min_propensity": self.min_propensity,
            "n_estimators(forest)": self.trees,
            "max_rows": self.max_rows,
            "forest": "library defaults (max_depth=None, "
            "min_samples_leaf=5, max_samples=0.5, honest=True)",
        }


class CausalMLX(PeerLearner):
    """``causalml.inference.meta.BaseXRegressor`` (multi-arm, control = the baseline arm).

    CausalML's X-learner uses ``p`` only when predicting (to weight its two effect models);
    the log records only the logged style's propensity, never every arm's for a new profile,
    so the per-arm ``p`` (P(arm) / (P(arm) + P(control)), clipped to [0.01, 0.99]) comes from
    one LightGBM multiclass classifier fitted on the training log, and is passed to both
    ``fit`` and ``predict``. Its ``predict`` returns columns in sorted group order; they are
    mapped back with :func:`arm_values_from_sorted`.
    """

    name = "causalml_x"

    def fit(self, X, action, reward, propensity):
        from causalml.inference.meta import BaseXRegressor

        self.labels = np.array(self.joint.labels, dtype=object)
        self.control = self.labels[self.joint.baseline]
        self.prop_model = self.classifier().fit(X, action)
        treatment = self.labels[action]
        self.model = BaseXRegressor(learner=self.regressor(), control_name=self.control)
        self.model.fit(X, treatment, reward, p=self._p(X))

    def _p(self, X) -> dict[str, np.ndarray]:
        proba = np.zeros((len(X), len(self.joint)))
        proba[:, self.prop_model.classes_] = self.prop_model.predict_proba(X)
        base = proba[:, self.joint.baseline]
        return {
            lab: np.clip(proba[:, j] / np.maximum(proba[:, j] + base, 1e-12), 0.01, 0.99)
            for j, lab in enumerate(self.labels)
            if lab != self.control
        }

    def choose(self, X):
        te = self.model.predict(X, p=self._p(X), verbose=False)
        values = arm_values_from_sorted(
            te, list(self.model.t_groups), list(self.labels), self.control
        )
        return values.argmax(1)

    def settings(self):
        return {
            **super().settings(),
            "class": "causalml.inference.meta.BaseXRegressor",
            "learner": "LGBMRegressor (all four models)",
            "control": "most frequent arm",
            "p": "LGBMClassifier multiclass -> P(arm)/(P(arm)+P(control)), clip [0.01, 0.99]",
        }


class VowpalCbAdf(PeerLearner):
    """Vowpal Wabbit ``--cb_adf`` trained offline on the log with the logged propensities.

    One multi-line example per logged row: a ``shared`` line with the standardised context
    (namespace ``s``) and one line per joint action (namespace ``a``: the action id, the
    style, the five mix shares and log cadence); ``-q sa`` crosses context with the action
    features, so each action gets its own linear model of the context. Cost = minus the
    reward, standardised. ``passes`` epochs over a cache file in a temporary directory.
    """

    name = "vw_cb_adf"

    def __init__(
        self, joint, seed, n_estimators=200, learning_rate=0.05, passes: int = 5, bits: int = 20
    ):
        super().__init__(joint, seed, n_estimators, learning_rate)
        self.passes, self.bits = passes, bits

    def _action_lines(self) -> list[str]:
        lines = []
        for j in range(len(self.joint)):
            mix = " ".join(f"m{k}:{v:.4f}" for k, v in enumerate(self.joint.mix[j]))
            lines.append(
                f"|a id{j} st{int(self.joint.style[j])} {mix} lc:{math.log(self.joint.cadence[j]):.4f}"
            )
        return lines

    @staticmethod
    def _shared(x: np.ndarray) -> str:
        return "shared |s " + " ".join(f"f{i}:{v:.5g}" for i, v in enumerate(x) if v != 0)

    def args(self) -> str:
        return (
            f"--cb_adf --cb_type mtr -q sa -b {self.bits} --passes {self.passes} --holdout_off "
            f"--random_seed {self.seed} --quiet"
        )

    def fit(self, X, action, reward, propensity):
        import vowpalwabbit

        self._tmp = tempfile.TemporaryDirectory(prefix="vw-")
        tmp = Path(self._tmp.name)
        mu, sd = float(reward.mean()), float(reward.std() or 1.0)
        cost = -(reward - mu) / sd
        acts = self._action_lines()
        data = tmp / "train.txt"
        with data.open("w") as f:
            for i in range(len(X)):
                lines = list(acts)
                a = int(action[i])
                lines[a] = f"0:{cost[i]:.5f}:{float(propensity[i]):.6f} {lines[a]}"
                f.write(self._shared(X[i]) + "\n" + "\n".join(lines) + "\n\n")
        model = tmp / "model.vw"
        learner = vowpalwabbit.Workspace(
            f"{self.args()} -d {data} --cache_file {tmp / 'cache'} -k -f {model}"
        )
        learner.finish()
        self.predictor = vowpalwabbit.Workspace(f"-i {model} -t --quiet")
        data.unlink()

    def choose(self, X):
        acts = self._action_lines()
        out = np.empty(len(X), dtype=int)
        for i in range(len(X)):
            costs = self.predictor.predict([self._shared(X[i]), *acts])
            out[i] = int(np.argmin(costs))  # VW returns the costs in the order actions were listed
        self.predictor.finish()
        self._tmp.cleanup()
        return out

    def settings(self):
        return {
            "class": "vowpalwabbit.Workspace",
            "args": self.args(),
            "features": "shared: standardised context; action: id, style, mix shares, log cadence",
            "cost": "-(reward - mean) / sd",
            "propensity": "logged style propensity x share of the prototype within its style",
        }


PEERS: dict[str, type[PeerLearner]] = {
    "econml_dr": EconMLDR,
    "econml_drpf": EconMLDRPolicyForest,
    "causalml_x": CausalMLX,
    "vw_cb_adf": VowpalCbAdf,
}
