"""The shipped policy's model, its registration, and whether it takes the ``champion`` alias.

The new version is promoted when its values pass the plausibility gate (:mod:`.plausibility`;
``--force`` does not skip it) and its DR value beats the champion's on THIS run's evaluation
rows, the champion's choices judged with this run's nuisance models (or with ``force``). A
champion that cannot be read, loaded or compared (another spec) is never replaced blindly.

Which evaluation rows: when the log carries the decisions the service recorded (the export's
``<propensity>_served_by`` column) and at least ``FRESH_ROWS`` evaluation rows were served by
the champion itself, the two are compared on those rows alone. The champion never trained on
them (it served them), while every other row of a retraining log may be one it learned from:
its choices there are judged against outcomes it has seen, which favours it. Otherwise every
evaluation row is used, and the reason says so.

Registration is the very last thing a run does, in this order:

1. inside the run, :func:`prepare_registration`: the gate, the judgement, the model artifact
   and the run's tags about them (then the pipeline logs its metrics and ends the run);
2. after the run has ended ``FINISHED``, :func:`publish`: the version is created, its tags in
   the same write; the alias moves if the judgement said so and the champion is still the one
   judged against; the run is tagged with the version and the outcome.

Why after the run rather than last inside it: killed at any instant, this order leaves at worst
a finished run with no version, or a version of a finished, complete run that did not take the
alias; both are harmless. Registering inside the run can leave a version, or the champion
itself, on a run that stays ``RUNNING`` forever (a killed process never ends its run). It also
means a version never belongs to a live run, so the sweep below cannot race a run in progress.

:func:`sweep_unfinished` runs before each training run: it marks ``FAILED`` the runs a killed
process left ``RUNNING``, tags every version whose run is not ``FINISHED`` (left by older code
or made by hand) ``engage.incomplete=true`` and takes the ``champion`` alias off such a
version, loudly (:mod:`engage.registry.sweep`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from engage import ope, registry
from engage.contract.redaction import redact
from engage.policy import SCHEMA_VERSION
from engage.policy.policy import Policy
from engage.training import tracking
from engage.training.gate import Evaluation
from engage.training.killpoints import pause_at
from engage.training.plausibility import Plausibility
from engage.training.settings import TrackingSettings
from engage.training.split import TrainingError

_log = logging.getLogger(__name__)
PREDICTION_PROFILES = 500  # evaluation profiles whose every candidate's outcomes the gate checks
#: the fewest evaluation rows the champion served for the comparison to be made on them alone
#: (fewer: too noisy to decide on; every evaluation row is used instead)
FRESH_ROWS = 200


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


@dataclass(frozen=True)
class Judgement:
    """Whether the new version should take the alias, and from which champion."""

    promote: bool
    reason: str
    champion: str | None = None  # the champion version judged against (None: there was none)
    forced: bool = False  # --force: move the alias whoever holds it by then

    @property
    def tags(self) -> dict[str, str]:
        """What the run records before it ends (``promoted`` is only known after the alias move)."""
        return {
            "promotion_decision": "promote" if self.promote else "keep",
            "promotion_reason": self.reason,
        }


@dataclass(frozen=True)
class Candidate:
    """A logged and judged model, to be registered once its run has ended ``FINISHED``."""

    model_uri: str
    run_id: str
    judgement: Judgement
    version_tags: dict[str, str]
    description: str = ""  # the model version's description in the registry
    model_description: str = ""  # the registered model's, set once when it is created


#: the new version's DR value on the evaluation rows a mask keeps (None: every one)
NewValue = Callable[[np.ndarray | None], float]


def judge_promotion(
    policy: Policy,
    evaluation: Evaluation,
    new_dr: NewValue,
    plausibility: Plausibility,
    settings: TrackingSettings,
    *,
    n_boot: int,
    seed: int,
    served_by: np.ndarray | None = None,
) -> Judgement:
    """Should the new version take the champion alias? Compared on this run's evaluation data
    (the champion's DR estimated as the run's own, with ``n_boot`` draws seeded by ``seed``).
    An implausible model is refused even with ``--force``. A version that serves the logging
    distribution (the gate found nothing confidently better than a declared log's logging
    policy) is judged like any other: promoted when there is no champion yet, else when it
    beats the champion on this run's evaluation rows. ``served_by``: the model
    (``name/version``) that served each evaluation row, when the log says (module docstring)."""
    if not plausibility.plausible:
        return Judgement(False, f"refused by the plausibility gate: {plausibility.reason}")
    if settings.force:
        return Judgement(True, "forced (--force)", forced=True)
    client = MlflowClient()
    try:
        current = registry.champion(client, settings.model_name)
    except Exception as exc:  # a registry that cannot be read: do not promote blindly
        return Judgement(False, f"champion could not be read ({redact(exc)}); not promoted")
    if current is None:
        return Judgement(True, "no champion yet")
    version = str(current.version)
    problem = registry.version_refusal(client, current)
    if problem is not None:  # the sweep takes the alias off such a version; this is a backstop
        _log.warning(
            "the champion alias points at version %s but %s: not compared", version, problem
        )
        return Judgement(
            True, f"champion v{version} is incomplete ({problem}); not compared, replaced", version
        )
    try:
        old = registry.load_registered_policy(f"models:/{settings.model_name}@{registry.CHAMPION}")
    except Exception as exc:
        return Judgement(
            False,
            f"champion v{version} could not be loaded ({redact(exc)}); not promoted (use --force)",
            version,
        )
    if old.spec.policy_fingerprint != policy.spec.policy_fingerprint:
        return Judgement(
            False,
            f"champion v{version} was trained on another spec (other profiles, decisions or "
            "outcomes); not comparable (use --force)",
            version,
        )
    fresh = _served_by_champion(served_by, f"{settings.model_name}/{version}")
    where = (
        "this evaluation data"
        if fresh is None
        else f"the {int(fresh.sum()):,} evaluation rows it served (rows it never trained on)"
    )
    new_value = new_dr(fresh)
    old_value = _champion_dr(old, policy, evaluation, n_boot=n_boot, seed=seed, rows=fresh)
    if new_value > old_value:
        return Judgement(
            True,
            f"DR {new_value:.4f} beats champion v{version}'s {old_value:.4f} on {where}",
            version,
        )
    return Judgement(
        False,
        f"DR {new_value:.4f} does not beat champion v{version}'s {old_value:.4f} on {where}; "
        "champion kept",
        version,
    )


def _served_by_champion(served_by: np.ndarray | None, champion: str) -> np.ndarray | None:
    """The evaluation rows the champion served, if there are ``FRESH_ROWS`` of them."""
    if served_by is None:
        return None
    fresh = np.asarray(served_by, dtype=object) == champion
    return fresh if int(fresh.sum()) >= FRESH_ROWS else None


def _champion_dr(
    old: Policy,
    policy: Policy,
    evaluation: Evaluation,
    *,
    n_boot: int,
    seed: int,
    rows: np.ndarray | None = None,
) -> float:
    """DR value of the champion's choices on the evaluation rows (those ``rows`` keeps),
    judged with this run's nuisance models (``policy``'s outcome models and the evaluation's
    logged data) and by this run's objective (``policy.objective``, the run's ``objective``
    setting)."""
    old_rows = old.candidates.encoded[old.choose(evaluation.context, policy.objective)]
    return evaluation_rows_dr(old_rows, policy, evaluation, n_boot=n_boot, seed=seed, rows=rows)


def evaluation_rows_dr(
    decisions: np.ndarray,
    policy: Policy,
    evaluation: Evaluation,
    *,
    n_boot: int,
    seed: int,
    rows: np.ndarray | None = None,
) -> float:
    """DR value, on the evaluation rows (those the mask ``rows`` keeps; None: every one), of
    the encoded actions ``decisions`` (one per evaluation row), valued by the models that
    valued this run's policy. The champion and the new version are compared here: on rows both
    policies chose for (the gate's other rows were chosen for by this run's fold policies)."""
    if evaluation.valuer is not None:
        q = evaluation.q(decisions)
    else:
        q = policy.predict_outcomes(np.hstack([evaluation.context, decisions])) @ policy.weights(
            policy.objective
        )
    data, styles = evaluation.data, decisions[:, 0].astype(int)
    if rows is not None:
        data, styles, q = data.take(rows), styles[rows], q[rows]
    estimates = ope.estimate_policy_value(data, styles, q, n_boot=n_boot, seed=seed)
    return estimates["dr"].value


def predicted_outcomes(policy: Policy, evaluation: Evaluation) -> dict[str, np.ndarray]:
    """Every candidate's predicted outcomes for a sample of evaluation profiles, by outcome:
    what the served model would show (the gate checks them against the data's range)."""
    context = evaluation.context[:PREDICTION_PROFILES]
    grid, _ = policy.score_candidates(context)  # the shared grid (the constant's)
    searched = policy.rank(context).preds  # each profile's own candidates
    outcomes = [o for o in policy.spec.outcome_names if o in policy.outcome_models]
    return {
        o: np.concatenate([grid[:, :, i].ravel(), searched[:, :, i].ravel()])
        for i, o in enumerate(outcomes)
    }


def prepare_registration(
    policy: Policy,
    evaluation: Evaluation,
    new_dr: NewValue,
    plausibility: Plausibility,
    input_example: pd.DataFrame,
    lineage: dict[str, str],
    settings: TrackingSettings,
    *,
    n_boot: int,
    seed: int,
    served_by: np.ndarray | None = None,
) -> Candidate:
    """Inside the run: judge the policy, log it as the run's model, tag the run with both.

    ``lineage`` holds the future version's tags (``run_id``, data digest, ...); ``served_by``
    the model that served each evaluation row, when the log says (:func:`judge_promotion`).
    """
    judgement = judge_promotion(
        policy,
        evaluation,
        new_dr,
        plausibility,
        settings,
        n_boot=n_boot,
        seed=seed,
        served_by=served_by,
    )
    info = registry.log_policy_model(policy, input_example)
    tracking.set_tags({**plausibility.tags, **judgement.tags})
    tags = {
        "schema_version": SCHEMA_VERSION,
        "spec_fingerprint": policy.spec.fingerprint,
        "git_sha": tracking.git_sha(),
        "policy_mode": policy.mode,
        **lineage,
        **plausibility.tags,
    }
    return Candidate(info.model_uri, lineage["run_id"], judgement, tags)


def publish(candidate: Candidate, settings: TrackingSettings) -> Registration:
    """After the run ended ``FINISHED``: register the version, maybe move the alias, tag the run.

    Raises:
        TrainingError: the run did not finish (nothing is registered).
    """
    client = MlflowClient()
    if not settings.register_model:
        registration = Registration(candidate.model_uri, None, False, "registration disabled")
        tracking.tag_run(client, candidate.run_id, registration.tags)
        return registration
    problem = registry.run_refusal(client, candidate.run_id)
    if problem is not None:
        raise TrainingError(f"the model was not registered: {problem}")
    tags = {**candidate.version_tags, registry.RUN_STATUS_TAG: "FINISHED"}
    try:
        registry.ensure_registered_model(client, settings.model_name, candidate.model_description)
        version = str(registry.register(candidate.model_uri, settings.model_name, tags).version)
    except Exception as exc:
        tracking.tag_run(client, candidate.run_id, {"registration_error": redact(exc)})
        raise
    if candidate.description:
        client.update_model_version(settings.model_name, version, description=candidate.description)
    pause_at("version_created")
    promoted, reason = _move_alias(client, candidate.judgement, version, settings)
    pause_at("alias_moved")
    registration = Registration(candidate.model_uri, version, promoted, reason)
    tracking.tag_run(client, candidate.run_id, registration.tags)
    return registration


def _move_alias(
    client: MlflowClient, judgement: Judgement, version: str, settings: TrackingSettings
) -> tuple[bool, str]:
    """Move the alias if so judged and the champion is still the one judged against."""
    if not judgement.promote:
        return False, judgement.reason
    if not judgement.forced:
        current = registry.champion(client, settings.model_name)
        now = None if current is None else str(current.version)
        if (
            now != judgement.champion
        ):  # another run promoted meanwhile: this one was not compared to it
            return False, (
                f"the champion changed to v{now} during this run (judged against "
                f"{'no champion' if judgement.champion is None else 'v' + judgement.champion}); "
                "not promoted: train again to compare"
            )
    registry.promote(settings.model_name, version)
    return True, judgement.reason


def sweep_unfinished(settings: TrackingSettings) -> list[str]:
    """Mark what killed or older runs left behind (:mod:`engage.registry.sweep`): runs left
    ``RUNNING`` by a dead process become ``FAILED``; the model's versions whose run did not
    finish are tagged incomplete and lose the alias.

    Each finding is logged as a warning and returned, for the run's tags. A registry that cannot
    be swept does not stop training: the judgement re-checks the champion before comparing
    against it.
    """
    model = settings.model_name if settings.register_model else None
    try:
        notes = registry.sweep_unfinished(MlflowClient(), settings.experiment, model)
    except MlflowException as exc:
        notes = [f"the registry could not be swept for unfinished runs and versions: {redact(exc)}"]
    for note in notes:
        _log.warning("%s", redact(note))
    return [redact(note) for note in notes]
