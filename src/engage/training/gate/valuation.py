"""The contenders' values and gains on the gate's rows: the one set of numbers the ship rule,
the run's metrics, its summary, report and headline all read.

Every figure is on the gate's rows (every clean row, :mod:`.rows`). The personalised policy's
and the best constant's DR values and gains over the logged policy carry the intervals of the
bands over every variant the gate chose among (:func:`.contenders.variant_band`); the
baseline's are its own (it is not chosen). Every gain is over the logging policy, whose value
is the observed mean (``logged``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engage import ope
from engage.training.gate.contenders import Contenders
from engage.training.gate.logging_value import value_logging
from engage.training.gate.rows import GateRows


@dataclass(frozen=True)
class GateValues:
    """The modes on the gate's rows."""

    values: ope.Values  # learned, best_constant, baseline, logged (and logging, when valued)
    gains: dict[str, ope.Estimate]  # DR gain of each mode over the logged policy
    gain: ope.Estimate  # DR value of learned minus best constant, paired bootstrap
    # DR value of the best constant minus the personalised policy's, its choice among the grid
    # allowed for (a band over every constant's difference)
    constant_over_learned: ope.Estimate


def value_on_gate(rows: GateRows, c: Contenders, *, n_boot: int, seed: int) -> GateValues:
    """DM, IPS, SNIPS, DR and the DR range of each mode, its DR gain over the logged policy,
    the logged policy's value, and the two comparisons of the personalised policy with the best
    constant: paired, and with the constant's choice allowed for."""
    data, cands = rows.pooled, c.policy.candidates
    codes = cands.style_codes
    logged = ope.logged_policy_value(data, n_boot=n_boot, seed=seed)
    values: ope.Values = {"logged": {"observed": (logged.value, logged.low, logged.high)}}
    gains: dict[str, ope.Estimate] = {
        "learned": c.learned_gain,
        "best_constant": c.constant.gain,
    }
    for name, contender in c.modes.items():
        style, q = contender.on_gate(codes)
        est = ope.estimate_policy_value(data, style, q, n_boot=n_boot, seed=seed)
        if name == "learned":
            est["dr"] = c.learned_value
        elif name == "best_constant":
            est["dr"] = c.constant.value
        else:
            gains[name] = ope.gain_over_logged(data, style, q, n_boot=n_boot, seed=seed)
        encoded = cands.encoded[contender.chosen]
        values[name] = ope.as_triples(
            ope.with_range(est, data, style, encoded, rows.pooled_logged_actions)
        )
    if c.logging is not None:  # the served logging distribution, a stochastic policy
        estimates, gains["logging"] = value_logging(rows, c.logging, n_boot=n_boot, seed=seed)
        values["logging"] = ope.as_triples(estimates)
    learned = c.learned.on_gate(codes)
    gain = ope.compare_policies(
        data, learned, c.best_constant.on_gate(codes), estimator="dr", n_boot=n_boot, seed=seed
    )
    over, _ = ope.simultaneous_differences(
        data, learned, *c.grid.on_gate(codes), n_boot=n_boot, seed=seed
    )
    return GateValues(values, gains, gain, over[c.constant.column])


def chooser_optimism(predicted: np.ndarray, c: Contenders) -> float:
    """How much the choosing models flatter their own choice (the winner's curse): their
    objective at the choice (``predicted``, per evaluation row, at the floor the gate chose)
    less the valuing models', on the evaluation rows."""
    return float(np.mean(predicted - c.learned.q_eval))
