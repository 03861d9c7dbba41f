"""The contenders' values and gains: on the OPE rows (what the run reports) and on the gate's
rows (what the ship rule reads).

The values of each policy stay those of the exact policy on the evaluation rows; the best
constant was chosen on them too, so its DR value and gain there carry the intervals that hold
for every constant of the grid at once (:func:`engage.ope.simultaneous_values`), and so do the
gains the run reports beside them (metrics ``policy.dr_gain_vs_*``); the gate's are on its own
rows (metrics ``gate.*``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engage import ope
from engage.training.gate.contenders import Contenders
from engage.training.gate.rows import GateRows


@dataclass(frozen=True)
class HeldOut:
    """The modes on the OPE rows alone."""

    values: ope.Values  # learned, best_constant, baseline and logged
    gains: dict[str, ope.Estimate]  # DR gain of each mode over the logged policy
    gain: ope.Estimate  # DR value of learned minus best constant, paired bootstrap


@dataclass(frozen=True)
class OnGate:
    """The modes on the gate's rows."""

    gains: dict[str, ope.Estimate]  # DR gain of each mode over the logged policy
    gain: ope.Estimate  # DR value of learned minus best constant, paired bootstrap
    # DR value of the best constant minus the personalised policy's, its choice among the grid
    # allowed for (a band over every constant's difference)
    constant_over_learned: ope.Estimate


def value_held_out(rows: GateRows, c: Contenders, *, n_boot: int, seed: int) -> HeldOut:
    """DM, IPS, SNIPS, DR and the DR range of each mode on the OPE rows, its gain over the
    logged policy, the logged policy's value, and the personalised policy's gain over the best
    constant."""
    data, cands = rows.data, c.policy.candidates
    codes = cands.style_codes
    # the constant was chosen on these rows too: its DR value and gain get the intervals that
    # hold for every constant of the grid at once (its own would overstate what is sure)
    band_value, _ = ope.simultaneous_values(data, *c.grid.held_out(codes), n_boot=n_boot, seed=seed)
    band_gain, _ = ope.simultaneous_gains(data, *c.grid.held_out(codes), n_boot=n_boot, seed=seed)
    values: ope.Values = {}
    gains: dict[str, ope.Estimate] = {}
    for name, contender in c.modes.items():
        style, q = contender.held_out(codes)
        est = ope.estimate_policy_value(data, style, q, n_boot=n_boot, seed=seed)
        if name == "best_constant":
            est["dr"] = band_value[c.constant.column]
            gains[name] = band_gain[c.constant.column]
        else:
            gains[name] = ope.gain_over_logged(data, style, q, n_boot=n_boot, seed=seed)
        encoded = cands.encoded[contender.on_eval]
        values[name] = ope.as_triples(
            ope.with_range(est, data, style, encoded, rows.logged_actions)
        )
    logged = ope.logged_policy_value(data)
    values["logged"] = {"observed": (logged.value, logged.low, logged.high)}
    gain = ope.compare_policies(
        data,
        c.learned.held_out(codes),
        c.best_constant.held_out(codes),
        estimator="dr",
        n_boot=n_boot,
        seed=seed,
    )
    return HeldOut(values, gains, gain)


def value_on_gate(
    rows: GateRows, c: Contenders, held: HeldOut, *, n_boot: int, seed: int
) -> OnGate:
    """Each mode's DR gain over the logged policy on the gate's rows (the best constant's with
    its choice among the grid allowed for), and the two comparisons of the personalised policy
    with the best constant: paired, and with the constant's choice allowed for."""
    codes = c.policy.candidates.style_codes
    learned = c.learned.on_gate(codes)
    if rows.training is None:  # the gate is the held-out rows (whose gains have the band)
        gains, gain = held.gains, held.gain
    else:
        gains = {
            name: ope.gain_over_logged(
                rows.pooled, *c.modes[name].on_gate(codes), n_boot=n_boot, seed=seed
            )
            for name in ("learned", "baseline")
        }
        gains["best_constant"] = c.constant.gain  # chosen on these rows: the simultaneous interval
        gain = ope.compare_policies(
            rows.pooled,
            learned,
            c.best_constant.on_gate(codes),
            estimator="dr",
            n_boot=n_boot,
            seed=seed,
        )
    over, _ = ope.simultaneous_differences(
        rows.pooled, learned, *c.grid.on_gate(codes), n_boot=n_boot, seed=seed
    )
    return OnGate(gains, gain, over[c.constant.column])


def chooser_optimism(ranking_index: np.ndarray, predicted: np.ndarray, c: Contenders) -> float:
    """How much the choosing models flatter their own choice (the winner's curse): their
    objective at the choice less the valuing models'. The floor changes what is allowed, not
    the predictions, so the ranking made before the floor was chosen has it."""
    chosen = c.learned.on_eval
    position = (ranking_index == chosen[:, None]).argmax(1)
    return float(np.mean(predicted[np.arange(len(chosen)), position] - c.learned.q_eval))
