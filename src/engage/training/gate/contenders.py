"""The contenders: every policy the gate values, as one type (:class:`Contender`), and the one
place that chooses among them the personalised policy's support floor and the best constant.

* The personalised policy at each support floor (:mod:`.floors`): it is judged at the lowest
  floor whose DR gain over the logged policy is positive with 95% confidence, else at its own:
  no style below the floor is recommended, so its rows weigh at most ``1 / floor`` in the
  unclipped DR (:func:`choose_floor`).
* Every constant of the grid (:class:`ConstantGrid`), valued as the supported policy that ships
  with it (``Policy.constant_rows``: the baseline action for profiles the log does not support
  it for) by the valuing models; the one with the highest lower bound is the best constant
  (:func:`choose_constant`).
* Every choice among these variants (which floor, which constant, and then personalised or
  constant) is made on the gate's rows with simultaneous bands (:func:`variant_band`, max-t
  bands, :func:`engage.ope.simultaneous_gains`), one per family: the personalised policy's
  floors, and the constant grid. The 5% error is shared evenly between the two families
  (``FAMILY_LEVEL``: each band holds at 97.5%), so the chance that either family confirms a
  variant that is not better stays within 5% (Bonferroni across the families, max-t within
  each), and the variant that ships is confirmed with its choice allowed for. One band over
  every variant held the same guarantee, but its critical value was set by the hundreds of
  constants (3.2 to 3.3 standard errors against 2.2 to 2.4 for the floors alone): the
  personalised policy, the product's answer, paid for a choice it is not part of.
  (Bands rather than nesting the choice within folds: nesting would refit the fold policies
  once more per fold.)
* The modes that may ship (:class:`Contenders`): the personalised policy at its floor, the
  best constant, the baseline (the best constant where the policy has none) and, on a log
  that declares its propensities, the logging distribution (:mod:`.logging_value`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engage import ope
from engage.policy.policy import Policy
from engage.training.gate.logging_value import LoggingContender, logging_contender
from engage.training.gate.rows import GateRows
from engage.training.valuer import Valuer

#: each family's band (the personalised policy's floors; the constant grid) holds at this
#: level, so the two together hold at 95%: the gate's promise, split evenly (module docstring)
FAMILY_LEVEL = 1.0 - 0.05 / 2


@dataclass(frozen=True)
class Contender:
    """A policy the gate values: the candidate row it puts first on each evaluation row and on each of
    the gate's training rows (None: the gate has none), and the valuing models' objective of it."""

    on_eval: np.ndarray
    q_eval: np.ndarray
    on_training: np.ndarray | None = None
    q_training: np.ndarray | None = None

    @property
    def chosen(self) -> np.ndarray:
        """Its candidate row on each of the gate's rows (:attr:`.rows.GateRows.pooled`)."""
        if self.on_training is None:
            return self.on_eval
        return np.concatenate([self.on_eval, self.on_training])

    def on_gate(self, style_codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Its style and objective on the gate's rows (:attr:`.rows.GateRows.pooled`)."""
        if self.on_training is None:
            return style_codes[self.on_eval], self.q_eval
        assert self.q_training is not None
        return (
            np.concatenate([style_codes[self.on_eval], style_codes[self.on_training]]),
            np.concatenate([self.q_eval, self.q_training]),
        )


@dataclass(frozen=True)
class ConstantGrid(Contender):
    """Every constant of the grid at once: column ``j`` is the contender of the grid's
    ``j``-th constant (``Policy.constant_targets``), (n, g) arrays; ``on_gate`` gives (n, g)
    arrays (rows joined as for one contender)."""

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
    value: ope.Estimate  # its DR value there, simultaneous
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
    # the personalised policy's DR gain over the logged policy and its DR value, with the
    # intervals of the bands over every variant the gate chose among (:func:`gather_contenders`)
    learned_gain: ope.Estimate
    learned_value: ope.Estimate
    # the log declares its propensities (a randomised experiment, or decisions the service
    # recorded): the logging policy is known, and it is what the gate falls back on
    logging_baseline: bool = False
    # the logging distribution as it would be served (:mod:`.logging_value`), on a log that
    # declares its propensities and where every gate row has a style it may be served; None
    # otherwise
    logging: LoggingContender | None = None

    @property
    def modes(self) -> dict[str, Contender]:
        """The policies that may ship, by their key in the evaluation's values."""
        return {
            "learned": self.learned,
            "best_constant": self.best_constant,
            "baseline": self.baseline,
        }


@dataclass(frozen=True)
class Band:
    """DR gains over the logged policy and DR values of every variant the gate chooses among
    (the personalised policy at each floor, then every constant), with intervals that hold for
    all of them at once at 95% (a max-t band per family at ``FAMILY_LEVEL``)."""

    gains: list[ope.Estimate]
    values: list[ope.Estimate]
    critical: float  # the constant grid's band's, in standard errors
    learned_critical: float = 0.0  # the floors' band's


def gather_contenders(
    rows: GateRows,
    valuer: Valuer,
    policy: Policy,
    on_eval: dict[float, np.ndarray],
    *,
    n_boot: int,
    seed: int,
) -> Contenders:
    """Choose the floor and the constant on the gate's rows, every choice judged by the bands
    over every variant it is made among (floors and constants, so the choice between the
    personalised policy and a constant too), and value the modes there. ``on_eval``: the
    policy's candidate row for each evaluation row at each floor it tries
    (:func:`.floors.choose_at_floors`)."""
    encoded, tr, codes = policy.candidates.encoded, rows.training, policy.candidates.style_codes
    at_floor = {}
    for floor, chosen in on_eval.items():
        at_floor[floor] = Contender(
            chosen,
            valuer.objective(rows.rows, rows.context, encoded[chosen]),
            None if tr is None else tr.at_floor[floor],
            None if tr is None else tr.q_at_floor[floor],
        )
    grid = value_constants(rows, valuer, policy)
    band = variant_band(rows, list(at_floor.values()), grid, codes, n_boot=n_boot, seed=seed)
    m = len(at_floor)
    floor, floor_metrics = choose_floor(rows, at_floor, band)
    i = list(at_floor).index(floor)
    policy = dataclasses.replace(policy, min_propensity=floor)
    constant = choose_constant(band, m, policy)
    best = grid.column(constant.column)
    baseline, has_baseline = _baseline(rows, valuer, policy, best)
    return Contenders(
        policy,
        floor,
        len(on_eval),
        floor_metrics,
        grid,
        constant,
        at_floor[floor],
        best,
        baseline,
        has_baseline,
        learned_gain=band.gains[i],
        learned_value=band.values[i],
        logging_baseline=rows.source == "logged",
        logging=_logging(rows, valuer, policy),
    )


def _logging(rows: GateRows, valuer: Valuer, policy: Policy) -> LoggingContender | None:
    """The served logging distribution's contender, when the log declares its propensities and
    every gate row has a style it may be served (else the rule falls back as on any log)."""
    if rows.source != "logged":
        return None
    contender = logging_contender(rows, valuer, policy)
    return contender if bool((contender.probability.sum(1) > 0).all()) else None


def variant_band(
    rows: GateRows,
    floors: list[Contender],
    grid: ConstantGrid,
    style_codes: np.ndarray,
    *,
    n_boot: int,
    seed: int,
) -> Band:
    """The bands of :class:`Band` on the gate's rows (columns: the floors, then the grid), one
    per family at ``FAMILY_LEVEL`` over the same bootstrap resamples."""
    on_gate = [c.on_gate(style_codes) for c in floors]
    f_style = np.column_stack([style for style, _ in on_gate])
    f_q = np.column_stack([q for _, q in on_gate])
    g_style, g_q = grid.on_gate(style_codes)
    gains: list[ope.Estimate] = []
    values: list[ope.Estimate] = []
    crits = []
    for s, q in ((f_style, f_q), (g_style, g_q)):
        fam, val, crit = ope.simultaneous_gains_and_values(
            rows.pooled, s, q, n_boot=n_boot, seed=seed, level=FAMILY_LEVEL
        )
        gains, values, crits = gains + fam, values + val, crits + [crit]
    return Band(gains, values, critical=crits[1], learned_critical=crits[0])


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
    rows: GateRows, at_floor: dict[float, Contender], band: Band
) -> tuple[float, dict[str, float]]:
    """The support floor whose personalised policy the gate judges: the lowest floor whose DR
    gain over the logged policy, on the gate's rows, is positive with 95% confidence *in the
    bands over every variant* (so trying several floors confirms no more than one would); the
    policy's own floor when none is. A higher floor gives up the actions the data can hardly
    check in exchange for a surer gain, so it is taken only when the less restricted policy
    cannot be confirmed. With one floor, that floor."""
    floors = list(at_floor)
    if len(floors) == 1:
        return floors[0], {}
    metrics: dict[str, float] = {"gate.floors": float(len(floors))}
    for floor, g in zip(floors, band.gains, strict=False):
        key = f"gate.floor_{floor:g}"
        metrics.update(
            {
                f"{key}.gain": g.value,
                f"{key}.gain_low": g.low,
                f"{key}.gain_high": g.high,
                # how many evaluation rows the floor moves off a rarely picked style
                f"{key}.changed_share": float(
                    np.mean(at_floor[floor].on_eval != at_floor[floors[0]].on_eval)
                ),
            }
        )
    sure = [f for f, g in zip(floors, band.gains, strict=False) if g.low > 0]
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


def choose_constant(band: Band, first: int, policy: Policy) -> ChosenConstant:
    """The constant with the highest lower bound of its DR gain over the logged policy in the
    band (columns ``first`` on: the grid's constants): the gain it is sure of, with the choice
    among the grid (and against the personalised policy) allowed for (ties: the higher value)."""
    gains = band.gains[first:]
    lows = np.array([e.low for e in gains])
    values = np.array([e.value for e in gains])
    j = int(np.lexsort((-values, -lows))[0])
    return ChosenConstant(
        action=int(policy.shared[j]),
        column=j,
        gain=gains[j],
        value=band.values[first + j],
        metrics={
            "gate.constant_candidates": float(len(gains)),
            "gate.constant_critical": band.critical,
            "gate.learned_critical": band.learned_critical,
        },
    )
