"""The evaluated candidate as it ships: its mode, constant action and provenance, checked
against the data's outcome range and judged against the champion (:mod:`.promotion`)."""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pandas as pd

from engage import ope
from engage.contract.spec import CampaignSpec
from engage.decisions.export import served_by_column
from engage.policy.policy import Policy
from engage.training.gate import Evaluation, ShipDecision
from engage.training.objective import objective_values
from engage.training.plausibility import check_plausibility
from engage.training.promotion import (
    Candidate,
    evaluation_rows_dr,
    predicted_outcomes,
    prepare_registration,
)
from engage.training.settings import TrainSettings
from engage.training.split import Split


def shipped_policy(
    candidate: Policy, decision: ShipDecision, run_id: str, metrics: dict[str, float]
) -> Policy:
    """The evaluated candidate as it ships: its mode, constant action and provenance."""
    metadata = {
        "run_id": run_id,
        "trained_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "metrics": {k: v for k, v in metrics.items() if math.isfinite(v)},
        "mode": decision.mode,
        "decision": decision.reason,
        "spec_fingerprint": candidate.spec.fingerprint,
    }
    return dataclasses.replace(
        candidate, mode=decision.mode, constant_action=decision.constant_action, metadata=metadata
    )


def prepare_candidate(
    policy: Policy,
    split: Split,
    evaluation: Evaluation,
    decision: ShipDecision,
    digest: str,
    weights: dict[str, float],
    settings: TrainSettings,
) -> Candidate:
    """Check the shipped policy against the data's outcome range, judge it against the
    champion and log it as the run's model (registered only once the run has finished)."""
    observed = {o: np.concatenate([split.train.y[o], split.eval.y[o]]) for o in split.train.y}
    shipped = evaluation.values[decision.shipped]
    plausibility = check_plausibility(
        {"shipped policy's DR": shipped["dr"][0], "shipped policy's DM": shipped["dm"][0]},
        predicted_outcomes(policy, evaluation),
        objective_values({o: observed[o] for o in weights}, weights),
        observed,
    )
    run_id = str(policy.metadata["run_id"])
    return prepare_registration(
        policy,
        evaluation,
        functools.partial(_new_dr, policy, evaluation, settings),
        plausibility,
        input_example=split.eval.log[policy.spec.context_names].head(2),
        lineage={"run_id": run_id, "data_digest": digest},
        settings=settings.tracking,
        n_boot=settings.n_boot,
        seed=settings.seed,
        served_by=_served_by(split, evaluation, policy.spec),
    )


def _served_by(split: Split, evaluation: Evaluation, spec: CampaignSpec) -> np.ndarray | None:
    """The model that served each evaluation row (``name/version``), when the log is (or
    holds) decisions the service recorded: the export's served-by column. None otherwise."""
    column = served_by_column(spec)
    log = split.eval.log
    if column not in log.columns:
        return None
    return log[column].to_numpy(dtype=object)[evaluation.rows]


def _new_dr(
    policy: Policy, evaluation: Evaluation, settings: TrainSettings, rows: np.ndarray | None
) -> float:
    """The shipped policy's DR value on the evaluation rows (those the mask ``rows`` keeps;
    None: every one), where the champion is compared with it (:mod:`.promotion`): the logging
    distribution's as the stochastic policy it is, any other mode's of its choices."""
    boot = {"n_boot": settings.n_boot, "seed": settings.seed}
    if policy.mode == "logging" and evaluation.logging is not None:
        n = evaluation.data.n  # the evaluation rows come first among the gate's
        data, p, q = evaluation.data, evaluation.logging.probability[:n], evaluation.logging.q[:n]
        if rows is not None:
            data, p, q = data.take(rows), p[rows], q[rows]
        estimates, _ = ope.stochastic_policy_value(data, p, q, **boot)
        return estimates["dr"].value
    decisions = policy.candidates.encoded[evaluation.choices(policy.mode)]
    return evaluation_rows_dr(decisions, policy, evaluation, rows=rows, **boot)
