"""A simulated world of social-media campaigns whose causal structure is known exactly.

The world implements the claims C1-C10 of ``shared/domain.md`` (each effect below is tagged
with its claim id). It is built to make recommending hard:

* **confounded logging** — marketers pick styles from the profile (niche sellers broadcast,
  software firms converse), and some style/profile pairs are rare (propensity down to ~0.02);
  marketers' habits are plausible but often not the best choice;
* **heterogeneous effects** with interactions (style x profile, mix x style, cadence x team
  capacity), diminishing returns in the mix (square roots), cadence fatigue;
* **noise** large enough that 5,000 rows do not settle which style is best;
* **trade-offs** between outcomes (deals convert now and lose followers later, C1 vs C8).

The oracle (:meth:`SimulatedWorld.expected_outcomes`) gives the true expected outcomes of any
(profile, style, mix, cadence), so policy value and regret can be computed exactly.

Difficulty:

* ``easy`` — a third of the noise, milder confounding (propensity floor 0.05);
* ``hard`` — full noise, strong confounding (propensity floor 0.02);
* ``flat`` — no profile-specific effects at all: every action's effect is its average over a
  fixed reference population, added to the profile baseline. Personalising can only lose.

Decisions:

* ``full`` — marketers choose style, posting mix and cadence;
* ``style`` — the world fixes mix and cadence per style (:data:`STYLE_PROTOTYPES`), so a
  policy only chooses the style.

The world is assembled here from :mod:`~engage.simulation.profiles` (who the businesses are),
:mod:`~engage.simulation.effects` (what their actions do), :mod:`~engage.simulation.logging_policy`
(what marketers choose) and :mod:`~engage.simulation.vocabulary` (the names they share).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec, load_spec
from engage.simulation import logging_policy

# The world's vocabulary lives in modules of its own, which profiles, effects and the logging
# policy share without importing the world; ``X as X`` re-exports it from here, where callers
# have always imported it.
from engage.simulation.effects import EFFORT_PER_POST as EFFORT_PER_POST
from engage.simulation.effects import (
    action_effects,
    average_effects,
    baseline_outcomes,
    profile_drivers,
)
from engage.simulation.profiles import INDUSTRY_SHARE as INDUSTRY_SHARE
from engage.simulation.profiles import sample_profiles
from engage.simulation.vocabulary import GOALS as GOALS
from engage.simulation.vocabulary import INDUSTRIES as INDUSTRIES
from engage.simulation.vocabulary import MIX as MIX
from engage.simulation.vocabulary import MIX_COLUMNS, OUTCOMES, STYLES, prototype_arrays
from engage.simulation.vocabulary import STYLE_PROTOTYPES as STYLE_PROTOTYPES

Difficulty = Literal["easy", "hard", "flat"]
DecisionMode = Literal["full", "style"]
DIFFICULTIES: tuple[str, ...] = ("easy", "hard", "flat")
DECISION_MODES: tuple[str, ...] = ("full", "style")

#: Standard deviation of the outcome noise at difficulty ``hard``.
NOISE_SD = np.array([3.0, 1.4, 2.4, 14.0])

#: Seed of the fixed reference population the ``flat`` world averages effects over.
_REFERENCE_SEED = 20261122
_REFERENCE_SIZE = 256


@dataclass(frozen=True)
class Actions:
    """A batch of actions: style codes, mix shares (k x 5) and cadence (posts per week)."""

    style: np.ndarray
    mix: np.ndarray
    cadence: np.ndarray

    def __len__(self) -> int:
        return len(self.style)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Actions:
        """Read actions from a frame with ``style``, ``mix_*`` and ``posts_per_week`` columns."""
        style = df["style"].map({s: i for i, s in enumerate(STYLES)}).to_numpy()
        if np.isnan(style.astype(float)).any():
            raise ValueError("unknown style in actions frame")
        return cls(
            style=style.astype(int),
            mix=df[MIX_COLUMNS].to_numpy(dtype=float),
            cadence=df["posts_per_week"].to_numpy(dtype=float),
        )

    def to_frame(self) -> pd.DataFrame:
        """The actions as a frame with the log's decision columns."""
        out = pd.DataFrame({"style": np.array(STYLES, dtype=object)[self.style]})
        for j, col in enumerate(MIX_COLUMNS):
            out[col] = self.mix[:, j]
        out["posts_per_week"] = self.cadence
        return out


class SimulatedWorld:
    """The simulated world and its ground-truth oracle.

    Args:
        difficulty: ``easy``, ``hard`` or ``flat`` (see the module docstring).
        decisions: ``full`` or ``style`` (mix and cadence fixed per style).
        spec: the campaign-log contract; the shipped simulated spec by default. Its outcome
            weights define the objective the oracle maximises.
    """

    #: The family of worlds this class builds (see :mod:`engage.simulation.families`).
    family = "classic"

    def __init__(
        self,
        difficulty: Difficulty = "hard",
        decisions: DecisionMode = "full",
        spec: CampaignSpec | None = None,
    ) -> None:
        if difficulty not in DIFFICULTIES:
            raise ValueError(f"difficulty must be one of {DIFFICULTIES}, got {difficulty!r}")
        if decisions not in DECISION_MODES:
            raise ValueError(f"decisions must be one of {DECISION_MODES}, got {decisions!r}")
        self.difficulty = difficulty
        self.decisions = decisions
        self.spec = spec or load_spec()
        weights = self.spec.outcome_weights()
        self.weights = np.array([weights[o] for o in OUTCOMES])
        self._habits = logging_policy.HABITS[difficulty]
        self._reference: pd.DataFrame | None = None

    # ------------------------------------------------------------------ profiles

    @staticmethod
    def sample_profiles(n: int, rng: np.random.Generator) -> pd.DataFrame:
        """Draw ``n`` business profiles (the context columns of the log).

        See :func:`engage.simulation.profiles.sample_profiles`.
        """
        return sample_profiles(n, rng)

    # ------------------------------------------------------------------ the oracle

    def _reference_profiles(self) -> pd.DataFrame:
        if self._reference is None:
            rng = np.random.default_rng(_REFERENCE_SEED)
            self._reference = sample_profiles(_REFERENCE_SIZE, rng)
        return self._reference

    def _means(self, profiles: pd.DataFrame, style, mix, cadence) -> np.ndarray:
        """True expected outcomes, (n, k, 4), for actions broadcast against profiles."""
        base = baseline_outcomes(profile_drivers(profiles))
        if self.difficulty == "flat":
            # No profile-specific effect: each action gets its average effect over a fixed
            # reference population, the same for every profile.
            reference = profile_drivers(self._reference_profiles())
            return base + average_effects(reference, style, mix, cadence)
        return base + action_effects(profile_drivers(profiles), style, mix, cadence)

    def _objective_weights(self, weights: np.ndarray | None) -> np.ndarray:
        return self.weights if weights is None else np.asarray(weights, dtype=float)

    def expected_outcomes(
        self, profiles: pd.DataFrame, actions: Actions, weights: np.ndarray | None = None
    ) -> pd.DataFrame:
        """True expected outcomes of one action per profile (row-aligned).

        Args:
            profiles: frame with the spec's context columns.
            actions: one action per profile row.
            weights: outcome weights in :data:`OUTCOMES` order; the spec's by default.

        Returns:
            One column per outcome plus ``objective``, their sum weighted by ``weights``.

        Raises:
            ValueError: if there are not as many actions as profiles.
        """
        if len(actions) != len(profiles):
            raise ValueError(f"{len(actions)} actions for {len(profiles)} profiles")
        m = self._means(
            profiles, actions.style[:, None], actions.mix[:, None, :], actions.cadence[:, None]
        )[:, 0, :]
        out = pd.DataFrame(m, columns=OUTCOMES)
        out["objective"] = m @ self._objective_weights(weights)
        return out

    def policy_value(
        self, profiles: pd.DataFrame, actions: Actions, weights: np.ndarray | None = None
    ) -> float:
        """True value (mean expected objective) of taking ``actions`` on ``profiles``."""
        return float(self.expected_outcomes(profiles, actions, weights)["objective"].mean())

    # ------------------------------------------------------------------ action grids

    def action_grid(
        self, mix_step: float = 0.1, cadences: tuple[float, ...] | None = None
    ) -> Actions:
        """The oracle's search space: every style x a simplex lattice of mixes x cadences.

        In ``style`` mode it is the five fixed style prototypes.

        Args:
            mix_step: spacing of the mix lattice (shares are multiples of it).
            cadences: posts per week to try; a spread from 1 to 28 by default.
        """
        if self.decisions == "style":
            return self.style_prototype_actions()
        steps = round(1 / mix_step)
        points = [p for p in itertools.product(range(steps + 1), repeat=5) if sum(p) == steps]
        lattice = np.array(points, dtype=float) / steps
        cads = np.array(cadences or (1, 2, 3, 4, 6, 8, 11, 15, 20, 28), dtype=float)
        s, m, c = np.meshgrid(
            np.arange(len(STYLES)), np.arange(len(lattice)), np.arange(len(cads)), indexing="ij"
        )
        return Actions(style=s.ravel(), mix=lattice[m.ravel()], cadence=cads[c.ravel()])

    @staticmethod
    def style_prototype_actions() -> Actions:
        """One action per style with the style's fixed mix and cadence."""
        mixes, cads = prototype_arrays()
        return Actions(style=np.arange(len(STYLES)), mix=mixes, cadence=cads)

    def best_actions(
        self,
        profiles: pd.DataFrame,
        grid: Actions | None = None,
        chunk: int = 64,
        weights: np.ndarray | None = None,
    ) -> tuple[Actions, np.ndarray]:
        """The oracle policy: for each profile the grid action with the best true objective.

        Args:
            profiles: frame with the spec's context columns.
            grid: the actions to choose from; :meth:`action_grid` by default.
            chunk: profiles scored at once (memory is chunk x grid size x 4 floats).
            weights: outcome weights in :data:`OUTCOMES` order; the spec's by default.

        Returns:
            The chosen actions and their true objective values.
        """
        grid = grid or self.action_grid()
        w = self._objective_weights(weights)
        if self.difficulty == "flat":
            best_idx, best_val = self._best_for_everyone(profiles, grid, w)
        else:
            best_idx, best_val = self._best_per_profile(profiles, grid, w, chunk)
        chosen = Actions(grid.style[best_idx], grid.mix[best_idx], grid.cadence[best_idx])
        return chosen, best_val

    def _best_for_everyone(
        self, profiles: pd.DataFrame, grid: Actions, w: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Flat world: one best action for all, so score the grid once, on the first profile.

        Values differ across profiles only by their baselines, swapped in for the first's.
        """
        vals = self._means(profiles.iloc[:1], grid.style, grid.mix, grid.cadence)[0] @ w
        best_idx = np.empty(len(profiles), dtype=int)
        best_val = np.empty(len(profiles))
        best_idx[:] = int(np.argmax(vals))
        base = baseline_outcomes(profile_drivers(profiles))[:, 0, :] @ w
        ref_base = baseline_outcomes(profile_drivers(profiles.iloc[:1]))[0, 0, :] @ w
        best_val[:] = vals[best_idx[0]] - ref_base + base
        return best_idx, best_val

    def _best_per_profile(
        self, profiles: pd.DataFrame, grid: Actions, w: np.ndarray, chunk: int
    ) -> tuple[np.ndarray, np.ndarray]:
        best_idx = np.empty(len(profiles), dtype=int)
        best_val = np.empty(len(profiles))
        for start in range(0, len(profiles), chunk):
            part = profiles.iloc[start : start + chunk]
            vals = self._means(part, grid.style, grid.mix, grid.cadence) @ w
            idx = np.argmax(vals, axis=1)
            best_idx[start : start + chunk] = idx
            best_val[start : start + chunk] = vals[np.arange(len(part)), idx]
        return best_idx, best_val

    # ------------------------------------------------------------------ logging policy

    def logging_propensities(self, profiles: pd.DataFrame) -> np.ndarray:
        """Probability that a marketer picks each style for each profile, shape (n, 5).

        See :mod:`engage.simulation.logging_policy`.
        """
        return logging_policy.logging_propensities(profiles, self._habits)

    def _logged_mix_and_cadence(
        self, profiles: pd.DataFrame, style: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        fixed = self.decisions == "style"
        return logging_policy.logged_mix_and_cadence(profiles, style, rng, self._habits, fixed)

    # ------------------------------------------------------------------ the log

    def simulate(self, n: int, seed: int = 0, with_truth: bool = False) -> pd.DataFrame:
        """Simulate a campaign log of ``n`` rows that satisfies the simulated spec.

        Args:
            n: number of campaigns.
            seed: random seed; the same seed gives the same log.
            with_truth: also write the oracle's expected outcomes (``true_*`` columns).

        Returns:
            The log, sorted by ``started_at``.

        Raises:
            ValueError: if ``n`` is below 1.
        """
        if n < 1:
            raise ValueError(f"rows must be >= 1, got {n}")
        # The draws below happen in a fixed order (profiles, styles, mixes, noise, dates): the
        # same seed must give the same log.
        rng = np.random.default_rng(seed)
        profiles = sample_profiles(n, rng)
        prop = self.logging_propensities(profiles)
        style = logging_policy.draw_styles(prop, rng)
        mix, cadence = self._logged_mix_and_cadence(profiles, style, rng)
        actions = Actions(style, mix, cadence)
        truth = self.expected_outcomes(profiles, actions)
        observed = self._observe(truth[OUTCOMES].to_numpy(), profiles, rng)
        start = np.datetime64("2024-01-01") + rng.integers(0, 730, n).astype("timedelta64[D]")
        ids = [f"c{seed}-{i:07d}" for i in range(n)]
        log = pd.DataFrame({"campaign_id": ids, "started_at": start})
        log = pd.concat([log, profiles, actions.to_frame()], axis=1)
        for j, name in enumerate(OUTCOMES):
            log[name] = np.round(observed[:, j], 4)
        log["logged_propensity"] = prop[np.arange(n), style]
        if with_truth:
            for name in OUTCOMES:
                log[f"true_{name}"] = truth[name].to_numpy()
            log["true_objective"] = truth["objective"].to_numpy()
        return log.sort_values("started_at", kind="stable").reset_index(drop=True)

    def _observe(
        self, truth: np.ndarray, profiles: pd.DataFrame, rng: np.random.Generator
    ) -> np.ndarray:
        """Observed outcomes: the expected ones (n, 4) plus this family's noise."""
        noise_scale = NOISE_SD * (1 / 3 if self.difficulty == "easy" else 1.0)
        observed = truth + rng.standard_normal((len(truth), 4)) * noise_scale
        observed[:, 3] = np.clip(observed[:, 3], 0, 100)  # retention is a percentage
        return observed

    def settings(self) -> dict[str, Any]:
        """The world's description as ``engage simulate`` stores it in a log's metadata."""
        return {"family": self.family, "difficulty": self.difficulty, "decisions": self.decisions}

    def logged_actions(self, log: pd.DataFrame) -> Actions:
        """The actions recorded in a log."""
        return Actions.from_frame(log)


WORLD_METADATA_KEY = b"engage.world"


def read_world(path: str | Path) -> dict[str, Any] | None:
    """The world settings :func:`write_log` stored in a Parquet log (None: none, or a CSV)."""
    import json

    import pyarrow.parquet as pq

    path = Path(path)
    if path.suffix.lower() not in {".parquet", ".pq"}:
        return None
    raw = (pq.read_schema(path).metadata or {}).get(WORLD_METADATA_KEY)
    return json.loads(raw) if raw else None


def write_log(log: pd.DataFrame, path: str | Path, world: dict[str, object] | None = None) -> Path:
    """Write a log as Parquet (with the world's settings in the file's metadata) or CSV."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in {".parquet", ".pq"}:
        table = pa.Table.from_pandas(log, preserve_index=False)
        meta = dict(table.schema.metadata or {})
        if world is not None:
            meta[WORLD_METADATA_KEY] = json.dumps(world).encode()
        pq.write_table(table.replace_schema_metadata(meta), path)
    elif suffix in {".csv", ".txt"}:
        log.to_csv(path, index=False)
    else:
        raise ValueError(f"--out must end in .parquet or .csv, got {path.name!r}")
    return path
