"""The closed-loop benchmark's online contender: Vowpal Wabbit ``--cb_explore_adf`` learning
from the same starting confounded log and then online, one business at a time, on the same
stream of businesses as engage's loop.

Why ``cb_explore_adf`` over a discretised action set and not CATS: CATS explores and learns one
continuous action on an interval, while an engage action is a style (categorical) x a posting
mix (a point on a 4-dimensional simplex) x a cadence; CATS has no way to hold the style and the
mix jointly. ``cb_explore_adf`` over the joint discrete actions of the policy-quality benchmark
(:class:`benchmarks.support.peers.JointActions`: per style, k-means mix prototypes x two cadence
levels, learned from the starting log) is the standard way VW serves a structured action.

Learning: one pass over the starting log (cost = minus the standardised objective, the logged
propensity = style propensity x the share of the prototype within its style), then for each
business of each round: predict a pmf (epsilon-greedy, ``--epsilon``), sample, observe the
world's outcome, learn with that action's probability. Its greedy policy (the pmf's mode) is
scored after each round on the same evaluation profiles as engage's champion.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from benchmarks.support.peers import JointActions, PeerFeatures, VowpalCbAdf

#: VW's exploration: a share of uniform draws (its documented epsilon-greedy default is 0.05)
VW_EPSILON = 0.05


class OnlineVW:
    """VW ``--cb_explore_adf`` over a discretised action set, learning online."""

    def __init__(self, log: pd.DataFrame, seed: int, track: str = "full") -> None:
        import vowpalwabbit

        self.joint = JointActions.from_log(log, track, seed)
        self.features = PeerFeatures.fit(log)
        self._lines = VowpalCbAdf(self.joint, seed)._action_lines()
        self.args = (
            f"--cb_explore_adf --epsilon {VW_EPSILON} -q sa --cb_type mtr "
            f"--random_seed {seed} --quiet"
        )
        self.vw = vowpalwabbit.Workspace(self.args)
        self.rng = np.random.default_rng(seed + 7)
        self.mu = float(log["reward"].mean())
        self.sd = float(log["reward"].std() or 1.0)
        action = self.joint.assign(log)
        share = self.joint.share_in_style[action]
        prop = np.clip(log["logged_propensity"].to_numpy(float) * share, 1e-3, 1.0)
        self.learn(self.features.transform(log), action, log["reward"].to_numpy(float), prop)

    def _example(self, x: np.ndarray, label: tuple[int, float, float] | None = None) -> list[str]:
        lines = list(self._lines)
        if label is not None:
            a, cost, p = label
            lines[a] = f"0:{cost:.5f}:{p:.6f} {lines[a]}"
        return [VowpalCbAdf._shared(x), *lines]

    def learn(
        self, X: np.ndarray, action: np.ndarray, reward: np.ndarray, prob: np.ndarray
    ) -> None:
        cost = -(reward - self.mu) / self.sd
        for i in range(len(X)):
            self.vw.learn(self._example(X[i], (int(action[i]), float(cost[i]), float(prob[i]))))

    def pmf(self, x: np.ndarray) -> np.ndarray:
        p = np.asarray(self.vw.predict(self._example(x)), dtype=float)
        return p / p.sum()

    def explore(self, profiles: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Sampled actions and their probabilities for ``profiles`` (no learning yet)."""
        X = self.features.transform(profiles)
        actions, probs = np.empty(len(X), int), np.empty(len(X))
        for i in range(len(X)):
            p = self.pmf(X[i])
            actions[i] = int(self.rng.choice(len(p), p=p))
            probs[i] = p[actions[i]]
        return actions, probs

    def greedy(self, profiles: pd.DataFrame) -> pd.DataFrame:
        """The pmf's mode per profile, as decision columns."""
        X = self.features.transform(profiles)
        idx = np.array([int(np.argmax(self.pmf(x))) for x in X])
        return self.joint.actions(idx).to_frame()
