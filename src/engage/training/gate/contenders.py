"""The contenders: every policy the gate values, as one type (:class:`Contender`), and the one
place that chooses among them the personalised policy's support floor and the best constant.

* The personalised policy at each support floor (:mod:`.floors`): it is judged at the lowest
  floor whose DR gain over the logged policy is positive with 95% confidence, else at its own:
  no style below the floor is recommended, so its rows weigh at most ``1 / floor`` in the
  unclipped DR (:func:`choose_floor`).
* Every constant of the grid (:class:`ConstantGrid`), valued as the supported policy that ships
  with it (``Policy.constant_rows``: the baseline action for profiles the log does not support
  it for) by the valuing models, with intervals that hold for all of them at once (a max-t
  band, :func:`engage.ope.simultaneous_gains`); the one with the highest lower bound is the best
  constant (:func:`choose_constant`). Choosing on the training rows alone and judging the choice
  on rows it did not read (a constant per outcome fold) judged a choice made on two thirds of
  those rows, which, where the constants' values are close, the folds did not agree on even
  when the whole training side chose right.
* The three modes that may ship (:class:`Contenders`): the personalised policy at its floor,
  the best constant, the baseline (the best constant where the policy has none).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engage import ope
from engage.policy.policy import Policy
from engage.policy.ranking import Ranking
from engage.training.gate.floors import chosen_at_floors
from engage.training.gate.rows import GateRows
from engage.training.valuer import Valuer


@dataclass(frozen=True)
class Contender:
    """A policy the gate values: the candidate row it puts first on each OPE row and on each of
    the gate's training rows (None: the gate has none), and the valuing models' objective of it."""

    on_eval: np.ndarray
    q_eval: np.ndarray
    on_training: np.ndarray | None = None
    q_training: np.ndarray | None = None

    def held_out(self, style_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Its style and objective on the OPE rows."""
        return style_codes[self.on_eval], self.q_eval

    def on_gate(self, style_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Its style and objective on the gate's rows (:attr:`.rows.GateRows.pooled`)."""
        if self.on_training is None:
            return self.held_out(style_codes)
        assert self.q_training is not None
        return (
            np.concatenate([style_codes[self.on_eval], style_codes[self.on_training]]),
            np.concatenate([self.q_eval, self.q_training]),
        )


@dataclass(frozen=True)
class ConstantGrid(Contender):
    """Every constant of the grid at once: column ``j`` is the contender of the grid's
    ``j``-th constant (``Policy.constant_targets``), (n, g) arrays; ``held_out`` and
    ``on_gate`` give (n, g) arrays (rows joined as for one contender)."""

    def column(self, j: int) -> Contender:
        return Contender(
            self.on_eval[:, j],
            self.q_eval[:, j],
            None if self.on_training is None else self.on_training[:, j],
            None if self.q_training is None else self.q_training[:, j],
        )


@dataclass(frozen=True)
class ChosenConstant:
    """The constant action the gate chose among the grid."""

    action: int  # candidate row
    column: int  # its position among the grid's constants
    gain: ope.Estimate  # its DR gain over the logged policy on the gate's rows, simultaneous
    metrics: dict[str, float]


@dataclass(frozen=True)
class Contenders:
    """What the gate chose to judge: the floor, the constant, and the three modes."""

    policy: Policy  # the personalised policy at the chosen floor
    floor: float
    floors_tried: int
    floor_metrics: dict[str, float]
    grid: ConstantGrid
    constant: ChosenConstant
    learned: Contender
    best_constant: Contender
    baseline: Contender  # the best constant's where the policy has no baseline
    has_baseline: bool

    @property
    def modes(self) -> dict[str, Contender]:
        """The policies that may ship, by their key in the evaluation's values."""
        return {
            "learned": self.learned,
            "best_constant": self.best_constant,
            "baseline": self.baseline,
        }


def gather_contenders(
    rows: GateRows,
    valuer: Valuer,
    policy: Policy,
    ranking: Ranking,
    floors: tuple[float, ...],
    *,
    n_boot: int,
    seed: int,
) -> Contenders:
    """Choose the floor and the constant on the gate's rows, and value the modes there."""
    encoded, tr = policy.candidates.encoded, rows.training
    at_floor = {}
    for floor, chosen in chosen_at_floors(ranking, policy, floors).items():
        at_floor[floor] = Contender(
            chosen,
            valuer.objective(rows.rows, rows.context, encoded[chosen]),
            None if tr is None else tr.at_floor[floor],
            None if tr is None else tr.q_at_floor[floor],
        )
    floor, floor_metrics = choose_floor(
        rows, at_floor, policy.candidates.style_codes, n_boot=n_boot, seed=seed
    )
    policy = dataclasses.replace(policy, min_propensity=floor)
    grid = value_constants(rows, valuer, policy)
    constant = choose_constant(grid, rows, policy, n_boot=n_boot, seed=seed)
    best = grid.column(constant.column)
    baseline, has_baseline = _baseline(rows, valuer, policy, best)
    return Contenders(
        policy,
        floor,
        len(floors),
        floor_metrics,
        grid,
        constant,
        at_floor[floor],
        best,
        baseline,
        has_baseline,
    )


def _baseline(
    rows: GateRows, valuer: Valuer, policy: Policy, best: Contender
) -> tuple[Contender, bool]:
    """The baseline policy's contender, and whether the policy has a baseline (without one the
    best constant stands in: without a baseline it is for every profile)."""
    on_eval = policy.baseline_rows(rows.context)
    has_baseline = bool((on_eval >= 0).all())
    if not has_baseline:
        on_eval = best.on_eval
    q_eval = valuer.objective(rows.rows, rows.context, policy.candidates.encoded[on_eval])
    tr = rows.training
    if tr is None:
        return Contender(on_eval, q_eval), has_baseline
    if has_baseline:
        return Contender(on_eval, q_eval, tr.baseline, tr.q_baseline), True
    return Contender(on_eval, q_eval, best.on_training, best.q_training), False


def choose_floor(
    rows: GateRows,
    at_floor: dict[float, Contender],
    style_codes: np.ndarray,
    *,
    n_boot: int,
    seed: int,
) -> tuple[float, dict[str, float]]:
    """The support floor whose personalised policy the gate judges: the lowest floor whose DR
    gain over the logged policy, on the gate's rows, is positive with 95% confidence; the
    policy's own floor when none is. A higher floor gives up the actions the data can hardly
    check in exchange for a surer gain, so it is taken only when the less restricted policy
    cannot be confirmed. With one floor, that floor."""
    floors = list(at_floor)
    if len(floors) == 1:
        return floors[0], {}
    metrics: dict[str, float] = {"gate.floors": float(len(floors))}
    lows = []
    for floor in floors:
        g = ope.gain_over_logged(
            rows.pooled, *at_floor[floor].on_gate(style_codes), n_boot=n_boot, seed=seed
        )
        lows.append(g.low)
        key = f"gate.floor_{floor:g}"
        metrics.update(
            {
                f"{key}.gain": g.value,
                f"{key}.gain_low": g.low,
                f"{key}.gain_high": g.high,
                # how many OPE rows the floor moves off a rarely picked style
                f"{key}.changed_share": float(
                    np.mean(at_floor[floor].on_eval != at_floor[floors[0]].on_eval)
                ),
            }
        )
    sure = [f for f, low in zip(floors, lows, strict=True) if low > 0]
    best = sure[0] if sure else floors[0]
    metrics["gate.personal_floor"] = best
    return best, metrics


def value_constants(rows: GateRows, valuer: Valuer, policy: Policy) -> ConstantGrid:
    """Every constant of the grid, valued on the gate's rows as the policy that ships with it
    (:meth:`Policy.constant_targets`) by the valuing models, which chose nothing."""
    encoded = policy.candidates.encoded
    t_eval = policy.constant_targets(rows.context)
    base_eval = policy.baseline_rows(rows.context)
    base_eval = np.where(base_eval >= 0, base_eval, t_eval[:, 0])
    q_eval = _constant_q(
        t_eval,
        base_eval,
        lambda at, chosen: valuer.objective(rows.rows[at], rows.context[at], encoded[chosen]),
    )
    tr = rows.training
    if tr is None:
        return ConstantGrid(t_eval, q_eval)
    t_train = policy.constant_targets(tr.context)
    base_train = np.where(tr.baseline >= 0, tr.baseline, t_train[:, 0])
    q_train = _constant_q(
        t_train,
        base_train,
        lambda at, chosen: valuer.objective_outside(tr.context[at], encoded[chosen]),
    )
    return ConstantGrid(t_eval, q_eval, t_train, q_train)


def _constant_q(
    targets: np.ndarray,
    fallback: np.ndarray,
    predict: Callable[[np.ndarray, np.ndarray], np.ndarray],
) -> np.ndarray:
    """The valuing models' objective of each column of candidate rows ``targets`` (n, g);
    ``predict(positions, candidate_rows)`` values some rows. A row whose target is its
    ``fallback`` row (the baseline the supported constant leaves it on) is valued once."""
    q_fallback = predict(np.arange(len(targets)), fallback)
    out = np.repeat(q_fallback[:, None], targets.shape[1], axis=1)
    for j in range(targets.shape[1]):
        need = np.flatnonzero(targets[:, j] != fallback)
        if len(need):
            out[need, j] = predict(need, targets[need, j])
    return out


def choose_constant(
    grid: ConstantGrid, rows: GateRows, policy: Policy, *, n_boot: int, seed: int
) -> ChosenConstant:
    """The constant with the highest lower bound of its DR gain over the logged policy on the
    gate's rows, its interval one that holds for every constant of the grid at once: the gain
    it is sure of, with the choice among the grid allowed for (ties: the higher value)."""
    estimates, crit = ope.simultaneous_gains(
        rows.pooled, *grid.on_gate(policy.candidates.style_codes), n_boot=n_boot, seed=seed
    )
    lows = np.array([e.low for e in estimates])
    values = np.array([e.value for e in estimates])
    j = int(np.lexsort((-values, -lows))[0])
    return ChosenConstant(
        action=int(policy.shared[j]),
        column=j,
        gain=estimates[j],
        metrics={"gate.constant_candidates": float(len(estimates)), "gate.constant_critical": crit},
    )
