"""A policy's value on recorded decisions: style-matched (any log with recorded propensities)
and, where every decision carries the density of its explored mix and numeric decisions,
of the policy's full action (kernel-smoothed IPS/DR, :mod:`engage.ope.continuous`).

``engage evaluate`` uses both; training's gate may call :func:`full_action_value` on an
exported log the same way.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from engage import ope
from engage.contract.spec import CampaignSpec, NumericColumn
from engage.decisions.export import recorded_actions
from engage.policy.scoring import weighted

#: kernel draws per row over which the model's value of the smoothed target is averaged
KERNEL_DRAWS = 16


def chosen_actions(policy: Any, frame: pd.DataFrame, objective: Any = None) -> pd.DataFrame:
    """The policy's (unexplored) action for each row's profile, as decision columns."""
    ranked = policy.rank(policy.builder.encode_context(frame), objective)
    out: pd.DataFrame = policy.candidates.frame.iloc[ranked.chosen].reset_index(drop=True)
    return out


def full_action_value(
    policy: Any,
    frame: pd.DataFrame,
    spec: CampaignSpec,
    data: ope.LoggedData,
    objective: Any = None,
    *,
    n_boot: int = 200,
    seed: int = 0,
) -> tuple[dict[str, ope.Estimate] | None, int]:
    """kIPS, kSNIPS and kDR of ``policy``'s full action on a validated exported log.

    Args:
        policy: the policy to value.
        frame: the log's clean rows (an export of ``engage decisions export``).
        spec: the log's spec.
        data: the log's :class:`~engage.ope.LoggedData` (recorded style probabilities).
        objective: outcome weights (None: the policy's).

    Returns:
        The estimates (None when no row carries a recorded density) and how many rows carry
        none (their mix and cadence were the policy's own; they add only the model's term).
    """
    actions, missing = recorded_actions(spec, frame)
    if actions is None:
        return None, missing
    target = chosen_actions(policy, frame, objective)
    numeric = [c.name for c in spec.extra_decisions if isinstance(c, NumericColumn)]
    t_mix = target[spec.mix_columns].to_numpy(float)
    t_num = target[numeric].to_numpy(float)
    mixes, nums = ope.kernel_samples(actions, t_mix, t_num, draws=KERNEL_DRAWS, seed=seed)
    smoothed = target.loc[target.index.repeat(KERNEL_DRAWS)].reset_index(drop=True)
    smoothed[spec.mix_columns] = mixes
    smoothed[numeric] = nums
    context = np.repeat(policy.builder.encode_context(frame), KERNEL_DRAWS, axis=0)
    rows = np.hstack([context, policy.builder.encode_decisions(smoothed[spec.decision_names])])
    q = weighted(policy.predict_outcomes(rows), policy.weights(objective))
    q_target = q.reshape(len(frame), KERNEL_DRAWS).mean(axis=1)
    style = policy.builder.encode_decisions(target[spec.decision_names])[:, 0].astype(int)
    estimates = ope.kernel_policy_value(
        data, actions, style, t_mix, t_num, q_target, n_boot=n_boot, seed=seed
    )
    return estimates, missing
