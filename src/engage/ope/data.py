"""The logged data the estimators read, and the estimate they return: validated on
construction, stored as private read-only copies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ESTIMATORS: tuple[str, ...] = ("dm", "ips", "snips", "dr")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% bootstrap percentile interval ``[low, high]``."""

    value: float
    low: float  # bootstrap percentile 2.5%
    high: float  # bootstrap percentile 97.5%

    def as_dict(self) -> dict[str, float]:
        return {"value": self.value, "low": self.low, "high": self.high}


# --------------------------------------------------------------------------------------------
# validation


def _vector(name: str, values: object) -> np.ndarray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D, got shape {arr.shape}")
    return arr


def _float_vector(name: str, values: object) -> np.ndarray:
    arr = _vector(name, values)
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numeric, got dtype {arr.dtype}")
    arr = np.array(arr, dtype=np.float64)  # private copy
    bad = int(np.count_nonzero(~np.isfinite(arr)))
    if bad:
        raise ValueError(f"{name}: {bad} of {arr.size} entries are not finite (NaN or inf)")
    arr.flags.writeable = False
    return arr


def _style_vector(name: str, values: object) -> np.ndarray:
    arr = _vector(name, values)
    if arr.dtype.kind == "f":
        with np.errstate(invalid="ignore"):
            bad = int(np.count_nonzero(~np.isfinite(arr) | (arr != np.round(arr))))
        if bad:
            raise ValueError(
                f"{name}: {bad} of {arr.size} entries are not integer style codes "
                "(NaN, inf or fractional)"
            )
    elif arr.dtype.kind not in "biu":
        raise ValueError(f"{name} must hold integer style codes, got dtype {arr.dtype}")
    arr = np.array(arr, dtype=np.int64)  # private copy
    bad = int(np.count_nonzero(arr < 0))
    if bad:
        raise ValueError(f"{name}: {bad} of {arr.size} entries are negative style codes")
    arr.flags.writeable = False
    return arr


def _check_lengths(n: int, **arrays: np.ndarray) -> None:
    for name, arr in arrays.items():
        if arr.shape[0] != n:
            raise ValueError(f"{name} has {arr.shape[0]} entries but the log has {n} rows")


def _check_boot(n_boot: int) -> None:
    if isinstance(n_boot, bool) or not isinstance(n_boot, int | np.integer) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer, got {n_boot!r}")


@dataclass(frozen=True)
class LoggedData:
    """The logged campaigns: one entry per row in each array (see the module docstring).

    Validated on construction: every field is 1-D with the same (non-zero) length, rewards,
    propensities and predictions are finite, ``0 < propensity <= 1`` and styles are integer codes
    ``>= 0``. Fields are stored as private read-only copies (float64; int64 for ``style``).
    """

    reward: np.ndarray
    style: np.ndarray
    propensity: np.ndarray
    q_logged: np.ndarray

    def __post_init__(self) -> None:
        fields = {
            name: _vector(f"LoggedData.{name}", getattr(self, name))
            for name in ("reward", "style", "propensity", "q_logged")
        }
        n = fields["reward"].shape[0]
        for name, arr in fields.items():
            if arr.shape[0] != n:
                raise ValueError(
                    f"LoggedData.{name} has {arr.shape[0]} entries but LoggedData.reward has {n}"
                )
        if n == 0:
            raise ValueError("LoggedData has no rows")
        reward = _float_vector("LoggedData.reward", fields["reward"])
        style = _style_vector("LoggedData.style", fields["style"])
        propensity = _float_vector("LoggedData.propensity", fields["propensity"])
        bad = int(np.count_nonzero((propensity <= 0.0) | (propensity > 1.0)))
        if bad:
            raise ValueError(f"LoggedData.propensity: {bad} of {n} entries are outside (0, 1]")
        q_logged = _float_vector("LoggedData.q_logged", fields["q_logged"])
        object.__setattr__(self, "reward", reward)
        object.__setattr__(self, "style", style)
        object.__setattr__(self, "propensity", propensity)
        object.__setattr__(self, "q_logged", q_logged)

    @property
    def n(self) -> int:
        return int(self.reward.shape[0])

    def take(self, rows: np.ndarray) -> LoggedData:
        """The rows a boolean mask or an index array keeps, as their own log."""
        return LoggedData(
            reward=self.reward[rows],
            style=self.style[rows],
            propensity=self.propensity[rows],
            q_logged=self.q_logged[rows],
        )
