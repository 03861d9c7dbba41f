"""Prediction intervals that depend on the profile and the action: normalised split conformal.

A recommendation's forecast of outcome ``o`` is ``ŷ_o(x) ± halfwidth_o(x)``, where ``x`` is
the encoded row (profile + action). :class:`IntervalModel` holds, per outcome,

* a **scale model** ``s_o(x)``: a LightGBM regression of the absolute residual ``|y - ŷ|`` on
  ``x`` (so it estimates the mean absolute error where ``x`` lies), floored at a small positive
  value so that no interval collapses to a point;
* a **conformal multiplier** ``q_o``: on calibration rows the scale model never saw, the
  ``⌈(n + 1) · level⌉``-th smallest of the scores ``|y - ŷ| / s_o(x)``.

and ``halfwidth_o(x) = q_o · s_o(x)``. When the calibration rows and a new row are
exchangeable, ``|y - ŷ| ≤ halfwidth_o(x)`` holds with probability at least ``level`` (Lei et
al. 2018, "Distribution-free predictive inference for regression", locally weighted split
conformal); the scale model only decides *where* the interval is wide, never whether the
level holds.

Why this rather than conformalised quantile regression (CQR): the API shows a symmetric
interval around the served point prediction, which this keeps (CQR centres on its own
quantile models, not on the prediction); it needs one extra model per outcome instead of two;
and it is calibrated on the out-of-fold residuals training already has.

What the guarantee does not cover: the residuals come from the logged actions, and a policy
recommends actions marketers rarely took. Where the outcome model extrapolates, its error can
be larger than anywhere in the log, and the scale model only partly sees that (it does learn
from the action's features). ``benchmarks/intervals.py`` measures the coverage at the
recommended actions with fresh draws from the simulated world.

The model is stored as plain files (:meth:`IntervalModel.save`): one LightGBM model text per
outcome and a small JSON of the outcomes, multipliers, floors and level.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import lightgbm as lgb
import numpy as np

INTERVALS_FILE = "intervals.json"
FORMAT_NAME = "engage-intervals"
# every field of intervals.json (save writes exactly these)
INTERVAL_FIELDS = (
    "format",
    "method",
    "outcomes",
    "multipliers",
    "floors",
    "level",
    "calibration_rows",
)


def interval_file(i: int) -> str:
    """The model text file of the ``i``-th outcome's scale model."""
    return f"interval-scale-{i}.txt"


class IntervalModelError(ValueError):
    """Stored interval files that cannot be read (the message says which and why)."""


@dataclass(frozen=True)
class IntervalModel:
    """Per-outcome scale models and conformal multipliers (see the module docstring).

    Attributes:
        outcomes: the outcomes covered, in the order of :meth:`halfwidths`' columns.
        boosters: one LightGBM scale model per outcome, same order.
        multipliers: the conformal multiplier of each outcome, (n_outcomes,).
        floors: the smallest scale of each outcome, (n_outcomes,) (> 0).
        level: the nominal coverage of the intervals, e.g. 0.9.
        calibration_rows: how many rows calibrated the multipliers.
    """

    outcomes: tuple[str, ...]
    boosters: tuple[lgb.Booster, ...]
    multipliers: np.ndarray
    floors: np.ndarray
    level: float
    calibration_rows: int = 0

    def __post_init__(self) -> None:
        k = len(self.outcomes)
        if len(self.boosters) != k or len(self.multipliers) != k or len(self.floors) != k:
            raise IntervalModelError(
                f"interval model for {k} outcome(s) has {len(self.boosters)} scale model(s), "
                f"{len(self.multipliers)} multiplier(s) and {len(self.floors)} floor(s)"
            )
        if not 0.0 < self.level < 1.0:
            raise IntervalModelError(f"interval level must be in (0, 1), got {self.level}")

    def scales(self, rows: np.ndarray) -> np.ndarray:
        """The scale models' predictions for encoded rows, floored: (n_rows, n_outcomes)."""
        rows = np.asarray(rows, dtype=float)
        if len(rows) == 0:
            return np.empty((0, len(self.outcomes)))
        raw = np.column_stack([b.predict(rows, num_threads=1) for b in self.boosters])
        floored: np.ndarray = np.maximum(raw, self.floors[None, :])
        return floored

    def halfwidths(self, rows: np.ndarray) -> np.ndarray:
        """Interval half-widths at :attr:`level` for encoded rows (profile + action),
        (n_rows, n_outcomes): one LightGBM call per outcome for all rows, so pass only the
        rows an answer shows."""
        widths: np.ndarray = self.scales(rows) * self.multipliers[None, :]
        return widths

    def halfwidth_maps(
        self, rows: np.ndarray, outcome_order: Sequence[str], default: Mapping[str, float]
    ) -> list[dict[str, float]]:
        """:meth:`halfwidths` as one ``{outcome: half-width}`` per row, in ``outcome_order``;
        an outcome this model does not cover keeps its ``default`` (0 if absent)."""
        widths = self.halfwidths(rows)
        col = {o: i for i, o in enumerate(self.outcomes)}
        return [
            {
                o: float(widths[r, col[o]]) if o in col else float(default.get(o, 0.0))
                for o in outcome_order
            }
            for r in range(len(widths))
        ]

    # ------------------------------------------------------------------ files

    def save(self, directory: str | Path) -> None:
        """Write the model as plain files into ``directory`` (created)."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        for i, booster in enumerate(self.boosters):
            (directory / interval_file(i)).write_text(booster.model_to_string(num_iteration=-1))
        fields = {
            "format": FORMAT_NAME,
            "method": "normalised split conformal",
            "outcomes": list(self.outcomes),
            "multipliers": [float(m) for m in self.multipliers],
            "floors": [float(f) for f in self.floors],
            "level": float(self.level),
            "calibration_rows": int(self.calibration_rows),
        }
        assert tuple(fields) == INTERVAL_FIELDS, "save and INTERVAL_FIELDS disagree"
        (directory / INTERVALS_FILE).write_text(json.dumps(fields, indent=1, allow_nan=False))

    @staticmethod
    def present(directory: str | Path) -> bool:
        """Whether ``directory`` holds a saved interval model."""
        return (Path(directory) / INTERVALS_FILE).exists()

    @classmethod
    def load(cls, directory: str | Path) -> IntervalModel:
        """Read a model written by :meth:`save`.

        Raises:
            IntervalModelError: a file is missing or its content is not a valid model.
        """
        directory = Path(directory)
        try:
            fields = json.loads((directory / INTERVALS_FILE).read_text())
            missing = [k for k in INTERVAL_FIELDS if k not in fields]
            if missing:  # every field is read strictly (the artifact's format fixes them)
                raise IntervalModelError(
                    f"{INTERVALS_FILE} has no field {', '.join(map(repr, missing))}"
                )
            if fields["format"] != FORMAT_NAME:
                raise IntervalModelError(f"{INTERVALS_FILE}: format is not {FORMAT_NAME!r}")
            outcomes = tuple(str(o) for o in fields["outcomes"])
            multipliers = np.asarray(fields["multipliers"], dtype=float)
            floors = np.asarray(fields["floors"], dtype=float)
            level = float(fields["level"])
            rows = int(fields["calibration_rows"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            if isinstance(exc, IntervalModelError):
                raise
            raise IntervalModelError(f"{INTERVALS_FILE} is unreadable: {exc}") from exc
        bad = [
            o
            for o, m, f in zip(outcomes, multipliers, floors, strict=False)
            if not (math.isfinite(m) and m > 0 and math.isfinite(f) and f > 0)
        ]
        if bad:
            raise IntervalModelError(
                f"{INTERVALS_FILE}: {len(bad)} outcome(s) with a non-positive or non-finite "
                f"multiplier or floor: {bad}"
            )
        boosters = []
        for i in range(len(outcomes)):
            path = directory / interval_file(i)
            if not path.exists():
                raise IntervalModelError(f"interval model file missing: {path.name}")
            boosters.append(lgb.Booster(model_str=path.read_text()))
        return cls(outcomes, tuple(boosters), multipliers, floors, level, rows)
