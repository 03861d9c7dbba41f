"""The shipped policy's model, its registration, and whether it takes the ``champion`` alias.

The new version is promoted when its DR value beats the champion's on THIS run's evaluation
rows, the champion's choices judged with this run's nuisance models (or with ``force``).
A champion that cannot be read, loaded or compared (another spec) is never replaced blindly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from mlflow import MlflowClient

from engage.policy import SCHEMA_VERSION
from engage.policy.policy import Policy
from engage.training import evaluation as ope
from engage.training import tracking
from engage.training.offpolicy import Evaluation
from engage.training.settings import TrainSettings


@dataclass(frozen=True)
class Registration:
    """Where the model went and whether it became the champion."""

    model_uri: str
    version: str | None  # None when registration is disabled
    promoted: bool
    reason: str

    @property
    def tags(self) -> dict[str, str]:
        """What the run tags about the registration."""
        tags = {"promoted": str(self.promoted).lower(), "promotion_reason": self.reason}
        if self.version:
            tags["model_version"] = self.version
        return tags


def judge_promotion(
    policy: Policy, evaluation: Evaluation, new_dr: float, settings: TrainSettings
) -> tuple[bool, str]:
    """Should the new version take the champion alias? Compared on this run's evaluation data."""
    if settings.force:
        return True, "forced (--force)"
    try:
        current = tracking.champion(MlflowClient(), settings.model_name)
    except Exception as exc:  # a registry that cannot be read: do not promote blindly
        return False, f"champion could not be read ({exc}); not promoted"
    if current is None:
        return True, "no champion yet"
    try:
        old = tracking.load_registered_policy(f"models:/{settings.model_name}@{tracking.CHAMPION}")
    except Exception as exc:
        return False, f"champion v{current.version} could not be loaded ({exc}); not promoted (use --force)"
    if old.spec.fingerprint != policy.spec.fingerprint:
        return False, f"champion v{current.version} was trained on another spec; not comparable (use --force)"
    old_value = _champion_dr(old, policy, evaluation, settings)
    if new_dr > old_value:
        return True, f"DR {new_dr:.4f} beats champion v{current.version}'s {old_value:.4f} on this evaluation data"
    return False, f"DR {new_dr:.4f} does not beat champion v{current.version}'s {old_value:.4f}; champion kept"


def _champion_dr(old: Policy, policy: Policy, evaluation: Evaluation, settings: TrainSettings) -> float:
    """DR value of the champion's choices on the evaluation rows, judged with this run's
    nuisance models (``policy``'s outcome models and the evaluation's logged data)."""
    context = evaluation.context
    old_rows = old.candidates.encoded[old.choose(context, settings.objective)]
    q_old = policy.predict_outcomes(np.hstack([context, old_rows])) @ policy.weights(settings.objective)
    estimates = ope.estimate_policy_value(
        evaluation.data, old_rows[:, 0].astype(int), q_old, n_boot=settings.n_boot, seed=settings.seed
    )
    return estimates["dr"].value


def register_policy(
    policy: Policy,
    evaluation: Evaluation,
    new_dr: float,
    input_example: pd.DataFrame,
    lineage: dict[str, str],
    settings: TrainSettings,
) -> Registration:
    """Log the policy as the run's model; register it and maybe promote it.

    ``lineage`` holds the registered version's tags (run id, data digest, ...).
    """
    promote, reason = judge_promotion(policy, evaluation, new_dr, settings)
    info = tracking.log_policy_model(policy, input_example)
    if not settings.register_model:
        return Registration(info.model_uri, None, False, "registration disabled")
    tags = {
        "schema_version": SCHEMA_VERSION, "spec_fingerprint": policy.spec.fingerprint,
        "git_sha": tracking.git_sha(), "policy_mode": policy.mode, **lineage,
    }
    version = tracking.register(info.model_uri, settings.model_name, tags)
    if promote:
        tracking.promote(settings.model_name, version.version)
    return Registration(info.model_uri, str(version.version), promote, reason)
