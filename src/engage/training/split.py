"""Split the clean log into training and evaluation rows, encode both, draw every subsample.

The evaluation split is never seen by any model. Every later step's subsample (the rows the
propensity model fits on, the rows OPE scores, ...) is drawn here, once, so that a step's
result depends only on its inputs and the seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec
from engage.policy.encoding import FeatureBuilder

MIN_ROWS = 200
CONSTANT_ROWS = 2_000  # training profiles the best constant's direct-method term averages over
EVAL_FRACTION = 0.25  # share of the rows held out for evaluation (time-ordered when it can be)
PROPENSITY_ROWS = 200_000  # cap on the training rows the propensity model fits on
MAX_METRIC_ROWS = 100_000  # cap on the evaluation rows of the outcome models' predictive metrics


class TrainingError(RuntimeError):
    """Training cannot go on (the message says why); nothing has been registered."""


@dataclass(frozen=True)
class Side:
    """One side of the split: its rows and their encodings."""

    log: pd.DataFrame
    context: np.ndarray  # encoded profile columns
    X: np.ndarray  # encoded profile + decision columns (the outcome models' input)
    style: np.ndarray  # logged style codes
    y: dict[str, np.ndarray]  # observed outcomes

    def __len__(self) -> int:
        return len(self.log)


@dataclass(frozen=True)
class Samples:
    """Row subsamples (positions within one side) that later steps use."""

    propensity: np.ndarray  # training rows the propensity model fits on (capped for speed)
    constant: np.ndarray  # training rows the best constant's predicted value averages over
    ope: np.ndarray  # evaluation rows the gate judges on: every one, whatever the log's size
    gate_train: np.ndarray  # training rows the gate judges on: every one
    metrics: np.ndarray  # evaluation rows of the outcome models' predictive metrics


@dataclass(frozen=True)
class Split:
    """The training and evaluation sides, how they were cut, and the subsamples."""

    train: Side
    eval: Side
    how: str  # "time" or "random"
    styles: list[str]  # the spec's styles, in code order
    categorical: list[int]  # categorical columns of X
    context_categorical: list[int]  # categorical columns of the encoded context
    samples: Samples

    @property
    def params(self) -> dict[str, Any]:
        """What the run logs about the split."""
        return {"split": self.how, "rows_train": len(self.train), "rows_eval": len(self.eval)}


def check_trainable(log: pd.DataFrame, spec: CampaignSpec) -> None:
    """Refuse a spec or a clean log that cannot give a policy.

    Raises:
        TrainingError: a single style, or fewer than ``MIN_ROWS`` clean rows.
    """
    if len(spec.styles) < 2:
        raise TrainingError("the spec declares a single style: there is nothing to choose between")
    if len(log) < MIN_ROWS:
        raise TrainingError(f"only {len(log)} valid rows: at least {MIN_ROWS} are needed to train")


def split_log(
    log: pd.DataFrame, spec: CampaignSpec, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray, str]:
    """Indices of the training and evaluation rows, and how the split was made.

    Time-ordered (the latest ``fraction`` is evaluated) when the spec has a timestamp, else a
    seeded random cut stratified by style.
    """
    n = len(log)
    if spec.timestamp:
        n_eval = max(1, int(round(n * fraction)))
        order = np.argsort(log[spec.timestamp].to_numpy(), kind="stable")
        return np.sort(order[: n - n_eval]), np.sort(order[n - n_eval :]), "time"
    # Stratified by style, so a rare style keeps rows on both sides of the split.
    rng = np.random.default_rng(seed)
    styles = log[spec.style.name].to_numpy()
    eval_idx = []
    for style in np.unique(styles):
        idx = rng.permutation(np.flatnonzero(styles == style))
        take = int(round(len(idx) * fraction)) if len(idx) > 1 else 0
        eval_idx.append(idx[:take])
    ev = np.sort(np.concatenate(eval_idx))
    return np.setdiff1d(np.arange(n), ev), ev, "random"


def make_split(log: pd.DataFrame, spec: CampaignSpec, seed: int) -> Split:
    """Split, encode and subsample the clean log (``seed`` draws every split and sample).

    Raises:
        TrainingError: a declared style has no row in the training split.
    """
    tr, ev, how = split_log(log, spec, EVAL_FRACTION, seed)
    builder = FeatureBuilder(spec)
    train = _encode(log.iloc[tr].reset_index(drop=True), spec, builder)
    evaluation = _encode(log.iloc[ev].reset_index(drop=True), spec, builder)
    missing = sorted(set(spec.styles) - set(train.log[spec.style.name]))
    if missing:
        raise TrainingError(f"styles {missing} have no rows in the training split")
    n_context = len(builder.context_names)
    return Split(
        train=train,
        eval=evaluation,
        how=how,
        styles=spec.styles,
        categorical=list(builder.categorical_indices),
        context_categorical=[i for i in builder.categorical_indices if i < n_context],
        samples=_draw_samples(len(train), len(evaluation), seed),
    )


def _encode(part: pd.DataFrame, spec: CampaignSpec, builder: FeatureBuilder) -> Side:
    context, decisions = builder.encode_context(part), builder.encode_decisions(part)
    return Side(
        log=part,
        context=context,
        X=np.hstack([context, decisions]),
        style=decisions[:, 0].astype(int),
        y={o: part[o].to_numpy(float) for o in spec.outcome_names},
    )


def _capped(n: int, cap: int, seed: int) -> np.ndarray:
    """All of ``range(n)``, or a sorted seeded sample of ``cap`` of them when ``n > cap``."""
    if n <= cap:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, cap, replace=False))


def _draw_samples(n_train: int, n_eval: int, seed: int) -> Samples:
    rng = np.random.default_rng(seed)
    constant = rng.choice(n_train, size=min(n_train, CONSTANT_ROWS), replace=False)
    return Samples(
        propensity=_capped(n_train, PROPENSITY_ROWS, seed),
        constant=constant,
        ope=np.arange(n_eval),
        gate_train=np.arange(n_train),
        metrics=_capped(n_eval, MAX_METRIC_ROWS, seed),
    )
