"""The gains a report headlines: over what marketers did, and over the best single action.

They are the figures the shipping decision was made on (:attr:`ShipDecision.gains` and
:attr:`ShipDecision.versus`, the gate's, on every row), the same the decision's reason, the run's
summary and its ``headline.*`` metrics give: one run never says "better" in one place and "not
distinguishable" in another. Without them (a decision made by hand) the evaluation's gate
figures are read, and without those (an evaluation made elsewhere) the gain is computed here,
on the evaluation's rows and with the same doubly robust terms as the shipped policy's value,
as a paired bootstrap: the shipped policy's DR value and the marketers' observed mean come
from the same campaigns, so treating them as independent would overstate the uncertainty.
"""

from __future__ import annotations

import numpy as np

from engage.policy.policy import Policy
from engage.reporting.record import Gain, Gains
from engage.training.gate import Evaluation, ShipDecision

_PERCENTILES = (2.5, 97.5)
_CHUNK = 50  # bootstrap resamples drawn at once (each is n row indices)


def measure_gains(
    policy: Policy,
    evaluation: Evaluation,
    decision: ShipDecision,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> Gains:
    """The shipped policy's gains as the decision judged them (see the module docstring).

    Args:
        policy: the shipped policy (its outcome models and candidates).
        evaluation: the evaluation the decision was made on.
        decision: what ships; the shipped policy's actions are the personalised choices or
            the constant action for every row, exactly as the evaluation valued them.
        n_boot: bootstrap resamples of the interval of the gain over the logged policy.
        seed: seed of the resamples.
    """
    data = evaluation.data
    g = decision.versus or evaluation.gain
    gains = decision.gains or evaluation.gains
    if gains is not None and decision.shipped in gains:
        e = gains[decision.shipped]
        return Gains(Gain(e.value, e.low, e.high), Gain(g.value, g.low, g.high))
    target = evaluation.choices(decision.mode)
    rows = np.hstack([evaluation.context, policy.candidates.encoded[target]])
    q_target = policy.predict_outcomes(rows) @ policy.weights()
    match = data.style == policy.candidates.style_codes[target]
    dr_terms = q_target + np.where(match, (data.reward - data.q_logged) / data.propensity, 0.0)
    over_logged = _paired_mean(dr_terms - data.reward, n_boot, seed)
    return Gains(over_logged, Gain(g.value, g.low, g.high))


def _paired_mean(diff: np.ndarray, n_boot: int, seed: int) -> Gain:
    """The mean of per-row differences with a 95% percentile-bootstrap interval."""
    rng = np.random.default_rng(seed)
    n = len(diff)
    means = np.empty(n_boot)
    for start in range(0, n_boot, _CHUNK):
        stop = min(start + _CHUNK, n_boot)
        idx = rng.integers(0, n, size=(stop - start, n))
        means[start:stop] = diff[idx].mean(axis=1)
    low, high = np.percentile(means, _PERCENTILES)
    return Gain(float(diff.mean()), float(low), float(high))
