"""The logging distribution as the gate values it, on a log that declares its propensities.

When the ship rule falls back on the logging policy (:mod:`.rule`), what ships is the policy of
mode ``"logging"`` (:mod:`engage.policy.logging_policy`): each profile's style drawn from the
fitted propensity model, served with its cluster's typical action of that style. That is the
logging policy at the level of the style, not within it (the logged mixes and cadences varied
around the typical one), so its value is not exactly the observed mean: it is valued here like
every other contender, on the gate's rows and by the valuing models, as the stochastic policy
it is (:func:`engage.ope.stochastic_policy_value`). Its DR gain over the logging policy is the
figure the decision's reason, the report, the summary and the headline quote for it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engage import ope
from engage.policy.logging_policy import LoggingOptions, logging_options
from engage.policy.policy import Policy
from engage.training.gate.rows import GateRows
from engage.training.valuer import Valuer


@dataclass(frozen=True)
class LoggingContender:
    """The served logging distribution on the gate's rows (in :attr:`GateRows.pooled` order):
    each style's probability and the valuing models' objective of the action served for it,
    and the options of the evaluation rows (what the shipped policy draws among there)."""

    probability: np.ndarray  # (n_gate, n_styles)
    q: np.ndarray  # (n_gate, n_styles); 0 where the style is not served
    on_eval: LoggingOptions


def logging_contender(rows: GateRows, valuer: Valuer, policy: Policy) -> LoggingContender:
    """The logging distribution ``policy`` would serve, valued on the gate's rows."""
    encoded = policy.candidates.encoded
    ev = logging_options(policy, rows.context)
    q = _option_q(
        ev, lambda at, chosen: valuer.objective(rows.rows[at], rows.context[at], encoded[chosen])
    )
    probability = ev.probability
    tr = rows.training
    if tr is not None:
        on_training = logging_options(policy, tr.context)
        q_training = _option_q(
            on_training,
            lambda at, chosen: valuer.objective_outside(tr.context[at], encoded[chosen]),
        )
        probability = np.vstack([probability, on_training.probability])
        q = np.vstack([q, q_training])
    return LoggingContender(probability, q, ev)


def _option_q(
    options: LoggingOptions, predict: Callable[[np.ndarray, np.ndarray], np.ndarray]
) -> np.ndarray:
    """The valuing models' objective of each style's served action, (n, n_styles)
    (``predict(positions, candidate_rows)``); 0 where the style is not served."""
    out = np.zeros(options.rows.shape)
    for k in range(options.rows.shape[1]):
        at = np.flatnonzero(options.rows[:, k] >= 0)
        if len(at):
            out[at, k] = predict(at, options.rows[at, k])
    return out


def value_logging(
    rows: GateRows, contender: LoggingContender, *, n_boot: int, seed: int
) -> tuple[dict[str, ope.Estimate], ope.Estimate]:
    """DM, IPS, SNIPS, DR and the DR range of the served logging distribution on the gate's
    rows, and its DR gain over the logging policy. Its actions are the typical ones, not the
    logged ones, so the range spans the DR and DM intervals (:func:`ope.extrapolation_range`)."""
    estimates, gain = ope.stochastic_policy_value(
        rows.pooled, contender.probability, contender.q, n_boot=n_boot, seed=seed
    )
    return {**estimates, "range": ope.extrapolation_range(estimates, exact=False)}, gain
