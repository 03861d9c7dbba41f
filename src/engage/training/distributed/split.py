"""The train/evaluation split on the cluster, a fold for every row, and the collected samples.

Each clean row gets, on its worker, three numbers from one seeded hash of its values: a
uniform for the random split, its cross-fitting fold and a uniform for sampling. A row's
side, fold and membership of the samples therefore depend only on the row and the seed, not
on how the log is partitioned. With a timestamp the split is time-ordered instead: the
evaluation side is the rows after the ``1 - eval_fraction`` quantile of the timestamp.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec
from engage.policy.encoding import FeatureBuilder
from engage.training.models import CORRECTION_MAX_ROWS
from engage.training.nuisance import TUNING_ROWS
from engage.training.oracle import ORACLE_ROWS
from engage.training.split import CONSTANT_ROWS, MAX_METRIC_ROWS, PROPENSITY_ROWS, Side, Split

EVAL = "_eval"
FOLD = "_fold"
DRAW = "_draw"
_BITS = 24


def hash_key(seed: int) -> str:
    """The 16-character key of pandas' row hash for ``seed``."""
    return f"{seed % 10**16:016d}"


def tag_rows(
    part: pd.DataFrame,
    spec: CampaignSpec,
    *,
    seed: int,
    folds: int,
    eval_fraction: float,
    cut: int | None,
) -> pd.DataFrame:
    """``part`` with its side (``_eval``), cross-fitting fold (``_fold``) and sampling draw
    (``_draw``, uniform in [0, 1)). ``cut``: the timestamp (int64 ns) after which rows are
    evaluated; None for the hashed random split."""
    h = pd.util.hash_pandas_object(part, index=False, hash_key=hash_key(seed)).to_numpy(np.uint64)
    scale = float(1 << _BITS)
    if cut is None:
        evaluated = (h & np.uint64((1 << _BITS) - 1)).astype(float) / scale < eval_fraction
    else:
        evaluated = timestamps_ns(part[spec.timestamp]) > cut
    fold = ((h >> np.uint64(_BITS)) % np.uint64(folds)).astype(np.int8)
    draw = (h >> np.uint64(40)).astype(float) / scale
    return part.assign(**{EVAL: evaluated, FOLD: fold, DRAW: draw})


def timestamps_ns(values: pd.Series) -> np.ndarray:
    """A datetime column as int64 nanoseconds (the unit the cut is in)."""
    return values.astype("datetime64[ns]").to_numpy().astype(np.int64)


def sample_caps() -> tuple[int, int]:
    """Rows collected of each side: the largest cap any step applies to that side (the gate
    judges on the collected rows: on a cluster, a sample of the log)."""
    train = max(PROPENSITY_ROWS, TUNING_ROWS, CONSTANT_ROWS, CORRECTION_MAX_ROWS)
    evaluation = max(MAX_METRIC_ROWS, ORACLE_ROWS)
    return train, evaluation


@dataclass(frozen=True)
class SampledSide(Side):
    """A side of which only a seeded sample is on the client: the arrays are the sample's,
    ``len()`` is the whole side's row count (what the outcome models were fitted on, and what
    the policy's support discount divides by). ``fold`` is each sampled row's fold."""

    rows: int = 0
    fold: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))

    def __len__(self) -> int:
        return self.rows


@dataclass(frozen=True)
class SampledSplit(Split):
    """A :class:`Split` whose sides are samples of the distributed sides."""

    dask_params: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> dict[str, Any]:
        return {**super().params, **self.dask_params}


def encode_side(frame: pd.DataFrame, spec: CampaignSpec, builder: FeatureBuilder) -> Side:
    """A collected sample as a :class:`Side` (the single-machine encoding)."""
    log = frame.drop(columns=[EVAL, FOLD, DRAW], errors="ignore").reset_index(drop=True)
    context, decisions = builder.encode_context(log), builder.encode_decisions(log)
    return Side(
        log=log,
        context=context,
        X=np.hstack([context, decisions]),
        style=decisions[:, 0].astype(int),
        y={o: log[o].to_numpy(float) for o in spec.outcome_names},
    )


def feature_frame(part: pd.DataFrame, spec: CampaignSpec) -> pd.DataFrame:
    """The outcome models' input of a partition (on a worker): encoded features ``x0..``, the
    outcomes and the fold."""
    builder = FeatureBuilder(spec)
    X = builder.build(part) if len(part) else np.zeros((0, len(builder.feature_names)))
    data: dict[str, Any] = {f"x{j}": X[:, j] for j in range(X.shape[1])}
    for o in spec.outcome_names:
        data[o] = part[o].to_numpy(float)
    data[FOLD] = part[FOLD].to_numpy(np.int8)
    return pd.DataFrame(data, index=pd.RangeIndex(len(part)))


def feature_meta(spec: CampaignSpec) -> pd.DataFrame:
    """The empty frame :func:`feature_frame` returns (Dask's ``meta``)."""
    n = len(FeatureBuilder(spec).feature_names)
    columns = {f"x{j}": pd.Series(dtype=float) for j in range(n)}
    columns.update({o: pd.Series(dtype=float) for o in spec.outcome_names})
    columns[FOLD] = pd.Series(dtype=np.int8)
    return pd.DataFrame(columns)
