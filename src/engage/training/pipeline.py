"""``engage train``: learn a recommendation policy from a campaign log, judge it off-policy,
track it in MLflow, register it and promote it when it beats the champion.

Stages (each timed and logged as ``time.<stage>_s``), one module each:

1. validate (:mod:`.intake`): the log against the spec, within the input limits; nothing is
   logged if it is fatally broken, over a limit, or quarantined beyond
   ``max_quarantine_share`` (5% unless the user opts in);
2. split (:mod:`.split`): time-ordered when the spec has a timestamp, else seeded random; the
   evaluation split is never seen by any model;
3. propensity, 4. tuning, 5. outcomes (:mod:`.nuisance`): the cross-fitted, calibrated
   propensity model and its overlap diagnostics; optional Optuna tuning of the outcome models;
   cross-fitted outcome models and their per-style corrections;
6. policy (:mod:`.selection`): the shared grid, the action search within support per cluster
   of profiles (:mod:`.actions`) and the personalised policy;
7. evaluation (:mod:`.gate`, the shipping gate): DM, IPS, SNIPS and DR of the personalised,
   best constant, baseline and logged policies, valued by models that did not choose them
   (:mod:`.valuer`); the gate alone chooses the personalised policy's support floor, the best
   constant and what ships, which must be confidently better than what marketers did (else the
   baseline);
8. oracle (:mod:`.oracle`): when the caller passes an ``Oracle``, true values and regret;
9. plots (:mod:`.figures`), model (:mod:`.promotion`): the shipped policy is checked against
   the data's outcome range (:mod:`.plausibility`), judged against the champion, and logged as
   one pyfunc artifact; then the run's metrics, and the run ends ``FINISHED``;
10. register (:mod:`.promotion`), only after the run has finished: the version is created and
   ``champion`` moves only if the model is plausible and beats the champion's DR value on this
   run's evaluation data (or ``force``). A killed run therefore never leaves a version of an
   unfinished run, let alone a champion on one; versions left so by older code are tagged
   ``engage.incomplete`` and lose the alias at the start of the next run.

Every parameter, tag and error message is redacted (:func:`engage.contract.redaction.redact`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import mlflow

from engage import registry
from engage.contract.redaction import redact
from engage.contract.spec import CampaignSpec, load_spec
from engage.contract.validation import ValidationReport
from engage.ope import Values
from engage.policy.policy import Policy
from engage.training import tracking

if TYPE_CHECKING:  # dask is an optional extra: imported only for --dask
    from engage.training.distributed import DaskTraining
from engage.training.figures import log_figures
from engage.training.gate import (
    Evaluation,
    ShipDecision,
    decide_shipping,
    decided_values,
    decision_metrics,
    evaluate_offpolicy,
)
from engage.training.intake import validate_input
from engage.training.killpoints import pause_at
from engage.training.models import FitLog
from engage.training.nuisance import (
    Nuisance,
    fit_outcome_models,
    fit_propensity_model,
    tune_outcome_models,
)
from engage.training.oracle import Oracle, measure_truth, with_truth
from engage.training.progress import Progress, Stages
from engage.training.promotion import (
    Candidate,
    publish,
    sweep_unfinished,
)
from engage.training.report import ReportInputs, log_report
from engage.training.run_record import (
    describe_run,
    experiment_description,
    log_run_inputs,
    log_run_outputs,
    log_split,
    run_name,
)
from engage.training.selection import Selection, select_policy
from engage.training.settings import TrainSettings, with_spec_names
from engage.training.shipping import prepare_candidate, shipped_policy
from engage.training.split import Split, TrainingError, make_split, split_log

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
    registry_notes: tuple[str, ...] = ()  # incomplete versions found and marked before the run
    artifact_uri: str = ""  # the run's artifact root: the report is report/report.html under it
    ui_page: str = ""  # the run in MLflow's UI, opened on the runs view (registry.experiment_page)


@dataclass(frozen=True)
class _EndedRun:
    """What the run, once ended ``FINISHED``, hands to registration and to the result."""

    run_id: str
    experiment_id: str
    policy: Policy
    metrics: dict[str, float]
    values: Values
    decision: ShipDecision
    candidate: Candidate
    artifact_uri: str = ""


def train(settings: TrainSettings, oracle: Oracle | None = None) -> TrainResult:
    """Run the whole pipeline (see the module docstring).

    Args:
        settings: the run's settings.
        oracle: the truth of the world the log was drawn from (simulated logs only); with
            it the run also logs ``true.*`` values and ``regret.*``.

    Raises:
        SpecError: the spec is unreadable or the objective names an unknown outcome; nothing
            has been logged or registered.
        LogValidationError: the log is fatally broken; nothing has been logged or registered.
        TrainingError: the log cannot give a policy (nothing logged or registered), or MLflow
            failed (its message redacted; nothing is registered unless the run has ended
            ``FINISHED``).
    """
    spec = load_spec(settings.spec)
    settings = with_spec_names(settings, spec.name)  # one experiment and model per spec
    weights = spec.outcome_weights(settings.objective)  # before anything is logged
    stages, fit_log = Stages(Progress(enabled=settings.progress)), FitLog()
    # --dask seam (engage.training.distributed): with a cluster, the validate, split and
    # outcomes stages run on it and the rest on seeded samples; dask is None without one.
    with _dask_training(settings) as dask:
        with stages.run("validate"):  # size limits, contract, quarantine share, trainable rows
            report = validate_input(settings.input, spec) if dask is None else dask.validate(spec)
        with tracking.redacted_errors(), stages:
            tracking_uri = registry.configure_tracking(
                settings.experiment, settings.mlruns, experiment_description(spec)
            )
            notes = sweep_unfinished(settings.tracking)
            ended = _run(spec, weights, report, oracle, settings, stages, fit_log, notes, dask)
            pause_at("run_finished")
            with stages.run("register"):
                registration = publish(ended.candidate, settings.tracking)
    return TrainResult(
        run_id=ended.run_id,
        experiment_id=ended.experiment_id,
        tracking_uri=redact(tracking_uri),
        policy=ended.policy,
        metrics=ended.metrics,
        values=ended.values,
        mode=ended.decision.mode,
        decision_reason=ended.decision.reason,
        objective_weights=weights,
        model_uri=registration.model_uri,
        version=registration.version,
        promoted=registration.promoted,
        promotion_reason=registration.reason,
        validation=report,
        fit_log=fit_log,
        timings=stages.timings,
        registry_notes=tuple(notes),
        artifact_uri=redact(ended.artifact_uri),
        ui_page=registry.experiment_page(tracking_uri, ended.experiment_id, ended.run_id),
    )


@contextmanager
def _dask_training(settings: TrainSettings) -> Iterator[DaskTraining | None]:
    """The Dask session of ``--dask``, or None; dask (an optional extra) is imported only then."""
    if settings.dask is None:
        yield None
        return
    from engage.training.distributed import dask_training

    with dask_training(settings) as dask:
        yield dask


def _run(
    spec: CampaignSpec,
    weights: dict[str, float],
    report: ValidationReport,
    oracle: Oracle | None,
    settings: TrainSettings,
    stages: Stages,
    fit_log: FitLog,
    notes: list[str],
    dask: DaskTraining | None = None,
) -> _EndedRun:
    """The MLflow run: every step, the model and the metrics; the run has ended ``FINISHED``
    when this returns (``FAILED`` if it raised)."""
    # the owner's host and pid go with the run's creation: a killed process is then told from a
    # live one by the next training (engage.registry.runs)
    with mlflow.start_run(run_name=run_name(settings), tags=registry.owner_tags()) as run:
        log_run_inputs(settings, spec, weights, report, oracle)
        if notes:
            tracking.set_tags({"registry_cleanup": "; ".join(notes)[:5000]})
        pause_at("run_started")
        split, digest, nuisance = _fit_nuisance(spec, report, settings, stages, fit_log, dask)
        with stages.run("policy"):
            selection = select_policy(spec, split, nuisance, weights, settings)
        evaluation, decision, values, truth = _judge(
            spec, split, nuisance, selection, weights, settings, stages, fit_log, oracle
        )
        metrics = {
            **nuisance.propensity.metrics,
            **nuisance.outcomes.metrics,
            **selection.metrics,
            **evaluation.metrics,
            **decision_metrics(values, decision),
            **truth,
        }
        values = with_truth(values, truth)
        with stages.run("plots"):
            log_figures(
                split,
                nuisance,
                evaluation.policy,
                values,
                truth.get("true.oracle"),
                settings.min_propensity,
            )
        with stages.run("model"):
            policy = shipped_policy(evaluation.policy, decision, run.info.run_id, metrics)
            candidate = prepare_candidate(
                policy, split, evaluation, decision, digest, weights, settings
            )
        pause_at("model_logged")
        with stages.run("report"):
            run_report = log_report(
                ReportInputs(
                    policy=policy,
                    evaluation=evaluation,
                    decision=decision,
                    values=values,
                    propensity=nuisance.propensity,
                    eval_styles=split.eval.style,
                    validation=report,
                    run_id=run.info.run_id,
                    oracle_value=truth.get("true.oracle"),
                ),
                seed=settings.seed,
            )
            candidate = describe_run(candidate, spec, run_report.headline, values, run.info.run_id)
        metrics = log_run_outputs(
            {**metrics, "policy.shipped_dr": values["shipped"]["dr"][0]}, stages.timings, fit_log
        )
        pause_at("before_finish")
    return _EndedRun(
        run.info.run_id,
        run.info.experiment_id,
        policy,
        metrics,
        values,
        decision,
        candidate,
        artifact_uri=run.info.artifact_uri or "",
    )


def _fit_nuisance(
    spec: CampaignSpec,
    report: ValidationReport,
    settings: TrainSettings,
    stages: Stages,
    fit_log: FitLog,
    dask: DaskTraining | None,
) -> tuple[Split, str, Nuisance]:
    """Stages split, propensity, tuning and outcomes: the split, its digest and the models."""
    with stages.run("split"):
        split = make_split(report.clean, spec, settings.seed) if dask is None else dask.split(spec)
        digest = log_split(split, settings)
    with stages.run("propensity"):
        propensity = fit_propensity_model(split, settings.learning, fit_log)
        tracking.log_params(propensity.params)
    with stages.run("tuning"):
        params = tune_outcome_models(split, settings.learning, fit_log)
    with stages.run("outcomes"):
        if dask is None:
            outcomes = fit_outcome_models(split, params, settings.learning, fit_log)
        else:  # on every training row of the cluster
            outcomes = dask.fit_outcomes(split, params, fit_log)
        tracking.log_params(outcomes.params)
    nuisance = Nuisance(propensity, outcomes)
    return split, digest, nuisance


def _judge(
    spec: CampaignSpec,
    split: Split,
    nuisance: Nuisance,
    selection: Selection,
    weights: dict[str, float],
    settings: TrainSettings,
    stages: Stages,
    fit_log: FitLog,
    oracle: Oracle | None,
) -> tuple[Evaluation, ShipDecision, Values, dict[str, float]]:
    """Stages evaluation and oracle: the off-policy values, the shipping decision, the decided
    values and, with an oracle, the true ones."""
    with stages.run("evaluation"):
        # the gate chooses the personalised policy's floor, the constant and the mode
        evaluation = evaluate_offpolicy(
            spec, split, nuisance, selection, weights, settings, fit_log
        )
        decision = decide_shipping(evaluation)
        values = decided_values(evaluation, decision)
        tracking.log_params(evaluation.params)
        tracking.set_tags(decision.tags)
    with stages.run("oracle"):
        truth = (
            {}
            if oracle is None
            else measure_truth(
                oracle, spec, split, evaluation.policy.candidates, evaluation, decision, weights
            )
        )
    return evaluation, decision, values, truth
