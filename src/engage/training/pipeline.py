"""``engage train``: learn a recommendation policy from a campaign log, judge it off-policy,
track it in MLflow, register it and promote it when it beats the champion.

Stages (each timed and logged as ``time.<stage>_s``), one module each:

1. validate the log against the spec (nothing is logged if it is fatally broken);
2. split (:mod:`.split`): time-ordered when the spec has a timestamp, else seeded random; the
   evaluation split is never seen by any model;
3. propensity, 4. tuning, 5. outcomes (:mod:`.nuisance`): the cross-fitted, calibrated
   propensity model and its overlap diagnostics; optional Optuna tuning of the outcome models;
   cross-fitted outcome models and their per-style corrections;
6. policy (:mod:`.selection`): candidate actions within the data's support, the policy, and
   the best constant action;
7. evaluation (:mod:`.offpolicy`): DM, IPS, SNIPS and DR of the learned policy, the logged
   policy and the best constant; the personalised policy ships only if its DR value beats
   the best constant's with 95% confidence;
8. oracle (:mod:`.oracle`): when the caller passes an ``Oracle``, true values and regret;
9. plots (:mod:`.figures`), and register (:mod:`.promotion`): the shipped policy as one
   pyfunc artifact, registered; ``champion`` moves only if it beats the champion's DR value
   on this run's evaluation data (or ``force``).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import mlflow
import pandas as pd

from engage.contract.spec import CampaignSpec, load_spec
from engage.contract.validation import ValidationReport, validate_file
from engage.policy import SCHEMA_VERSION
from engage.policy.policy import Policy
from engage.training import tracking
from engage.training.figures import log_figures
from engage.training.models import FitLog
from engage.training.nuisance import (
    Nuisance,
    fit_outcome_models,
    fit_propensity_model,
    tune_outcome_models,
)
from engage.training.offpolicy import (
    Evaluation,
    ShipDecision,
    Values,
    decide_shipping,
    decided_values,
    decision_metrics,
    evaluate_offpolicy,
)
from engage.training.oracle import Oracle, measure_truth, with_truth
from engage.training.progress import Progress
from engage.training.promotion import Registration, register_policy
from engage.training.selection import select_policy
from engage.training.settings import TrainSettings
from engage.training.split import Split, TrainingError, check_trainable, make_split, split_log

__all__ = ["Oracle", "TrainResult", "TrainSettings", "TrainingError", "split_log", "train"]


@dataclass(frozen=True)
class TrainResult:
    """What a run produced, for the summary table and for tests."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    policy: Policy  # the shipped policy, as registered
    metrics: dict[str, float]
    values: Values
    mode: str
    decision_reason: str
    objective_weights: dict[str, float]  # signed, every outcome of the spec
    model_uri: str | None = None
    version: str | None = None
    promoted: bool = False
    promotion_reason: str = ""
    validation: ValidationReport | None = None
    fit_log: FitLog = field(default_factory=FitLog)
    timings: dict[str, float] = field(default_factory=dict)


def train(settings: TrainSettings, oracle: Oracle | None = None) -> TrainResult:
    """Run the whole pipeline (see the module docstring).

    Args:
        settings: the run's settings.
        oracle: the truth of the world the log was drawn from (simulated logs only); with
            it the run also logs ``true.*`` values and ``regret.*``.

    Raises:
        SpecError: the spec is unreadable or the objective names an unknown outcome.
        LogValidationError: the log is fatally broken. TrainingError: it cannot give a policy.
        In all three cases nothing has been logged or registered.
    """
    spec = load_spec(settings.spec)
    weights = spec.outcome_weights(settings.objective)  # before anything is logged
    stages, fit_log = _Stages(Progress(enabled=settings.progress)), FitLog()
    with stages.run("validate"):
        report = validate_file(settings.data, spec)
        report.raise_if_fatal()
    check_trainable(report.clean, spec)
    tracking_uri = tracking.configure_tracking(settings.experiment, settings.mlruns)
    with mlflow.start_run() as run, stages:
        _log_run_inputs(settings, spec, weights, report, oracle)
        with stages.run("split"):
            split = make_split(report.clean, spec, settings)
            digest = _log_split(split, settings)
        with stages.run("propensity"):
            propensity = fit_propensity_model(split, settings, fit_log)
            mlflow.log_params(propensity.params)
        with stages.run("tuning"):
            params = tune_outcome_models(split, settings, fit_log)
        with stages.run("outcomes"):
            outcomes = fit_outcome_models(split, params, settings, fit_log)
            mlflow.log_params(outcomes.params)
        nuisance = Nuisance(propensity, outcomes)
        with stages.run("policy"):
            selection = select_policy(spec, split, nuisance, weights, settings)
        with stages.run("evaluation"):
            evaluation = evaluate_offpolicy(spec, split, propensity, selection, weights, settings)
            decision = decide_shipping(evaluation, selection.constant_action)
            values = decided_values(evaluation, decision)
            mlflow.log_params(evaluation.params)
            mlflow.set_tags(decision.tags)
        with stages.run("oracle"):
            truth = {} if oracle is None else measure_truth(
                oracle, spec, split, selection.policy.candidates, evaluation, decision, weights, settings
            )
        metrics = {
            **propensity.metrics, **outcomes.metrics, **selection.metrics, **evaluation.metrics,
            **decision_metrics(values, decision), **truth,
        }
        values = with_truth(values, truth)
        with stages.run("plots"):
            log_figures(split, nuisance, selection.policy, values, truth.get("true.oracle"), settings)
        with stages.run("register"):
            policy = _shipped_policy(selection.policy, decision, run.info.run_id, metrics)
            registration = _register(policy, split, evaluation, values, digest, run.info.run_id, settings)
        metrics = _log_run_outputs(
            {**metrics, "policy.shipped_dr": values["shipped"]["dr"][0]}, stages.timings, fit_log
        )
    return TrainResult(
        run_id=run.info.run_id, experiment_id=run.info.experiment_id, tracking_uri=tracking_uri,
        policy=policy, metrics=metrics, values=values, mode=decision.mode,
        decision_reason=decision.reason, objective_weights=weights,
        model_uri=registration.model_uri, version=registration.version,
        promoted=registration.promoted, promotion_reason=registration.reason,
        validation=report, fit_log=fit_log, timings=stages.timings,
    )


class _Stages:
    """Times each stage and shows it on the progress display; a context that closes it."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.timings: dict[str, float] = {}

    @contextmanager
    def run(self, name: str) -> Iterator[None]:
        self.progress.start(name)
        start = time.perf_counter()
        yield
        self.timings[name] = time.perf_counter() - start
        self.progress.done(name, self.timings[name])

    def __enter__(self) -> _Stages:
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.close()  # also on failure: a spinner must not outlive the run


def _log_run_inputs(
    settings: TrainSettings,
    spec: CampaignSpec,
    weights: dict[str, float],
    report: ValidationReport,
    oracle: Oracle | None,
) -> None:
    """Tags, parameters and the validation report of the run, before any fitting."""
    mlflow.set_tags(
        {
            "git_sha": tracking.git_sha(),
            "schema_version": SCHEMA_VERSION,
            "spec_name": spec.name,
            "spec_fingerprint": spec.fingerprint,
            "world": json.dumps(dict(oracle.description)) if oracle is not None else "none",
        }
    )
    mlflow.log_params(
        {
            **settings.model_dump(mode="json", exclude={"objective"}),
            "objective_weights": json.dumps(weights),  # effective and signed, every outcome
            "rows_input": report.n_input_rows,
            "rows_clean": len(report.clean),
            "rows_quarantined": len(report.quarantine),
        }
    )
    mlflow.log_text(report.summary(), "validation/report.txt")
    if len(report.quarantine):
        mlflow.log_text(report.quarantine.to_csv(index=False), "validation/quarantine.csv")


def _log_split(split: Split, settings: TrainSettings) -> str:
    """Log the split's parameters and both sides as run inputs; the training side's digest."""
    mlflow.log_params(split.params)
    source = str(settings.data)
    name = Path(source).name
    digest = tracking.log_dataset(split.train.log, source, f"{name}:train", "training")
    tracking.log_dataset(split.eval.log, source, f"{name}:eval", "evaluation")
    return digest


def _shipped_policy(
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


def _register(
    policy: Policy,
    split: Split,
    evaluation: Evaluation,
    values: Values,
    digest: str,
    run_id: str,
    settings: TrainSettings,
) -> Registration:
    """Log, register and maybe promote the shipped policy; tag the run with the outcome."""
    registration = register_policy(
        policy, evaluation, values["shipped"]["dr"][0],
        input_example=split.eval.log[policy.spec.context_names].head(2),
        lineage={"run_id": run_id, "data_digest": digest},
        settings=settings,
    )
    mlflow.set_tags(registration.tags)
    return registration


def _log_run_outputs(
    metrics: dict[str, float], timings: dict[str, float], fit_log: FitLog
) -> dict[str, float]:
    """Log every finite metric, each stage's seconds and the record of every LightGBM fit;
    return all the metrics."""
    metrics = {
        **metrics,
        **{f"time.{name}_s": secs for name, secs in timings.items()},
        "time.lightgbm_fits_s": fit_log.seconds,
        "lightgbm.fits": len(fit_log.fits),
    }
    mlflow.log_metrics({k: float(v) for k, v in metrics.items() if math.isfinite(float(v))})
    mlflow.log_dict({"fits": fit_log.fits}, "timings/lightgbm_fits.json")
    return metrics
