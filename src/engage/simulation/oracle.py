"""The simulated world as training's ``Oracle`` (``engage.training.oracle.Oracle``).

Training knows outcomes only by the spec's names; the world knows them by position
(:data:`~engage.simulation.world.OUTCOMES`). This adapter maps one onto the other, so the
objective the oracle values is exactly the one the run trains for. It satisfies the protocol
structurally: simulation does not import training.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec, load_spec
from engage.simulation.families import world_from_settings
from engage.simulation.world import MIX_COLUMNS, OUTCOMES, Actions, SimulatedWorld, read_world


class WorldOracle:
    """True policy values in a :class:`SimulatedWorld`.

    Args:
        world: the world the log was drawn from.
        description: its settings as stored in the log (``difficulty``, ``decisions``, ...).
    """

    def __init__(self, world: SimulatedWorld, description: Mapping[str, Any]) -> None:
        self.world = world
        self._description = dict(description)

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> WorldOracle:
        """The oracle of the world ``engage simulate`` describes in a log's metadata.

        ``family`` picks the family of worlds (:mod:`engage.simulation.families`); logs
        written before there were families have none and are ``classic``.
        """
        return cls(world_from_settings(settings), settings)

    @property
    def description(self) -> Mapping[str, Any]:
        """The world's settings."""
        return dict(self._description)

    def policy_value(
        self, profiles: pd.DataFrame, actions: pd.DataFrame, weights: Mapping[str, float]
    ) -> float:
        """True mean objective of taking ``actions[i]`` (decision columns) for ``profiles[i]``."""
        return self.world.policy_value(
            profiles, Actions.from_frame(actions), self._weights(weights)
        )

    def best_value(self, profiles: pd.DataFrame, weights: Mapping[str, float]) -> float:
        """True mean objective of the best action for each profile (the world's oracle search:
        its lattice grid in the classic family, the continuous space in the edge family)."""
        _, best = self.world.best_actions(profiles, weights=self._weights(weights))
        return float(best.mean())

    @staticmethod
    def _weights(weights: Mapping[str, float]) -> np.ndarray:
        """Weights by outcome name -> the world's outcome order (absent outcomes weigh 0)."""
        unknown = sorted(set(weights) - set(OUTCOMES))
        if unknown:
            raise ValueError(f"the simulated world has no outcome(s) {unknown}; it has {OUTCOMES}")
        return np.array([float(weights.get(o, 0.0)) for o in OUTCOMES])


def oracle_for_log(path: str | Path, spec_path: str | Path | None = None) -> WorldOracle | None:
    """The oracle of a log written by ``engage simulate``.

    None for any other log, and for a simulated log read through a spec (``spec_path``; the
    simulated world's by default) whose outcomes or decisions are not the world's: the oracle
    could not value what such a run learns.
    """
    settings = read_world(path)
    if not settings or not _reads_world(load_spec(spec_path)):
        return None
    return WorldOracle.from_settings(settings)


def _reads_world(spec: CampaignSpec) -> bool:
    decisions = {"style", *MIX_COLUMNS, "posts_per_week"}
    return set(spec.outcome_names) <= set(OUTCOMES) and decisions <= set(spec.decision_names)
