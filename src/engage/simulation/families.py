"""Families of simulated worlds, and how to build one from its name or its stored settings.

* ``classic`` — :class:`~engage.simulation.world.SimulatedWorld`: additive square-root effects,
  Gaussian noise, difficulties ``hard``, ``easy`` and ``flat``. Its oracle scores a lattice
  grid (mix step 0.1 x 10 cadences), as it always has.
* ``edge`` — :class:`EdgeWorld` (equations in :mod:`engage.simulation.edge`): multiplicative,
  saturating and logistic effects in content dose, heavy-tailed heteroscedastic noise, other
  confounding, and optimal actions at the edge of what marketers log; difficulties ``hard``
  and ``easy``. Its oracle searches the continuous action space
  (:func:`engage.simulation.search.search_best_actions`).

Both write the same log schema under the same spec, so the product trains on either unchanged.
A world is named ``<difficulty>`` for the classic family (``hard``, as benchmarks always have)
and ``<family>-<difficulty>`` otherwise (``edge-hard``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec
from engage.simulation.edge import (
    EDGE_DIFFICULTIES,
    EDGE_HABITS,
    edge_drivers,
    edge_logged_mix_and_cadence,
    edge_means,
    edge_noise,
    edge_propensities,
)
from engage.simulation.search import search_best_actions
from engage.simulation.vocabulary import STYLES
from engage.simulation.world import DECISION_MODES, DIFFICULTIES, Actions, SimulatedWorld

FAMILIES: tuple[str, ...] = ("classic", "edge")
#: Difficulties each family offers.
FAMILY_DIFFICULTIES: dict[str, tuple[str, ...]] = {
    "classic": DIFFICULTIES,
    "edge": EDGE_DIFFICULTIES,
}


class EdgeWorld(SimulatedWorld):
    """A world of the ``edge`` family (see :mod:`engage.simulation.edge`).

    Args:
        difficulty: ``hard`` or ``easy``.
        decisions: ``full`` or ``style`` (mix and cadence fixed at the style prototypes).
        spec: the campaign-log contract; the shipped simulated spec by default.
    """

    family = "edge"

    def __init__(
        self, difficulty: str = "hard", decisions: str = "full", spec: CampaignSpec | None = None
    ) -> None:
        if difficulty not in EDGE_DIFFICULTIES:
            raise ValueError(
                f"difficulty of the edge family must be one of {EDGE_DIFFICULTIES},"
                f" got {difficulty!r}"
            )
        # the classic constructor checks decisions and reads the spec; its habits go unused
        super().__init__("hard", decisions, spec)  # type: ignore[arg-type]
        self.difficulty = difficulty  # type: ignore[assignment]
        self._edge_habits = EDGE_HABITS[difficulty]

    def _means(self, profiles: pd.DataFrame, style, mix, cadence) -> np.ndarray:
        return edge_means(edge_drivers(profiles), style, mix, cadence)

    def logging_propensities(self, profiles: pd.DataFrame) -> np.ndarray:
        """Probability that a marketer picks each style for each profile, shape (n, 5)."""
        return edge_propensities(profiles, self._edge_habits)

    def _logged_mix_and_cadence(
        self, profiles: pd.DataFrame, style: np.ndarray, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        fixed = self.decisions == "style"
        return edge_logged_mix_and_cadence(profiles, style, rng, self._edge_habits, fixed)

    def _observe(
        self, truth: np.ndarray, profiles: pd.DataFrame, rng: np.random.Generator
    ) -> np.ndarray:
        observed = truth + edge_noise(truth, profiles, rng, self._edge_habits.noise)
        observed[:, 3] = np.clip(observed[:, 3], 0, 100)  # retention is a percentage
        return observed

    def best_actions(
        self,
        profiles: pd.DataFrame,
        grid: Actions | None = None,
        chunk: int = 64,
        weights: np.ndarray | None = None,
    ) -> tuple[Actions, np.ndarray]:
        """The oracle policy: the best action per profile and its true objective.

        Without ``grid`` (and in ``full`` decisions) the continuous action space is searched
        (coarse grid + local refinement); with a ``grid``, or in ``style`` decisions, the
        best of the given actions (the five style prototypes) is taken.
        """
        if grid is not None or self.decisions == "style":
            return super().best_actions(profiles, grid, chunk, weights)
        w = self._objective_weights(weights)

        def values(part, style, mix, cadence):
            return self._means(part, style, mix, cadence) @ w

        style, mix, cadence, value = search_best_actions(values, profiles, len(STYLES))
        return Actions(style, mix, cadence), value


def make_world(
    family: str = "classic",
    difficulty: str = "hard",
    decisions: str = "full",
    spec: CampaignSpec | None = None,
) -> SimulatedWorld:
    """The world of a family at a difficulty.

    Raises:
        ValueError: for an unknown family, difficulty (for that family) or decision mode.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
    if decisions not in DECISION_MODES:
        raise ValueError(f"decisions must be one of {DECISION_MODES}, got {decisions!r}")
    if family == "edge":
        return EdgeWorld(difficulty, decisions, spec)
    return SimulatedWorld(difficulty, decisions, spec)  # type: ignore[arg-type]


def world_from_settings(settings: Mapping[str, Any]) -> SimulatedWorld:
    """The world a log's stored settings describe (logs without ``family`` are classic)."""
    return make_world(
        settings.get("family", "classic"),
        settings["difficulty"],
        settings.get("decisions", "full"),
    )


def world_names(families: tuple[str, ...] | list[str] = FAMILIES) -> list[str]:
    """Every world name of the given families (``hard``, ..., ``edge-hard``, ...)."""
    return [world_name(f, d) for f in families for d in FAMILY_DIFFICULTIES[f]]


def world_name(family: str, difficulty: str) -> str:
    """``hard`` for the classic family, ``edge-hard`` for another."""
    return difficulty if family == "classic" else f"{family}-{difficulty}"


def parse_world_name(name: str) -> tuple[str, str]:
    """``edge-hard`` -> ("edge", "hard"); ``hard`` or ``classic-hard`` -> ("classic", "hard").

    Raises:
        ValueError: for a name that is no family's difficulty.
    """
    family, _, difficulty = name.rpartition("-")
    family = family or "classic"
    if family not in FAMILIES or difficulty not in FAMILY_DIFFICULTIES[family]:
        raise ValueError(f"unknown world {name!r}; worlds are {world_names()}")
    return family, difficulty


def logged_support_quantile(
    world: SimulatedWorld,
    profiles: pd.DataFrame,
    actions: Actions,
    draws: int = 300,
    seed: int = 0,
) -> np.ndarray:
    """How far out of what marketers log each action lies, per profile, in [0, 1].

    For profile ``i`` the world's logging policy draws ``draws`` mixes and cadences *for the
    style of* ``actions[i]``; the result is the share of those draws that lie closer to their
    own centre than the action does (Mahalanobis distance over four mix shares and the log
    cadence). 0.5 is a typical logged action; >= 0.9 the outer 10% of the logged density;
    1.0 beyond every draw.
    """
    n = len(profiles)
    rep = profiles.iloc[np.repeat(np.arange(n), draws)].reset_index(drop=True)
    style = np.repeat(actions.style, draws)
    mix, cadence = world._logged_mix_and_cadence(rep, style, np.random.default_rng(seed))

    def features(m: np.ndarray, c: np.ndarray) -> np.ndarray:
        return np.column_stack([m[:, :4], np.log(c)])

    f = features(mix, cadence).reshape(n, draws, 5)
    mu = f.mean(1, keepdims=True)
    dev = f - mu
    cov = np.einsum("npi,npj->nij", dev, dev) / (draws - 1) + 1e-6 * np.eye(5)
    inv = np.linalg.inv(cov)
    d_draws = np.einsum("npi,nij,npj->np", dev, inv, dev)
    a = features(actions.mix, actions.cadence)[:, None, :] - mu
    d_action = np.einsum("npi,nij,npj->np", a, inv, a)[:, 0]
    return (d_draws < d_action[:, None]).mean(1)
