"""What a training run writes to MLflow about itself: its name, the experiment's and the
registered model's descriptions, its inputs (tags, parameters, validation report, the split's
datasets) and its outputs (metrics, stage timings, LightGBM fits, the headline figures)."""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path

import mlflow

from engage.contract.redaction import redact
from engage.contract.spec import CampaignSpec
from engage.contract.validation import ValidationReport
from engage.ope import Values
from engage.policy import SCHEMA_VERSION
from engage.training import tracking
from engage.training.intake import MAX_QUARANTINE_ROWS_WRITTEN
from engage.training.models import FitLog
from engage.training.oracle import Oracle
from engage.training.promotion import Candidate
from engage.training.settings import TrainSettings, constants
from engage.training.split import Split


def run_name(settings: TrainSettings) -> str:
    """The run's name in MLflow: ``<data file name> · seed <n>``, what tells the runs of one
    experiment apart (the experiment is the spec's, so its name would only push these out of
    the runs table's narrow name column, as "simulated_world · …")."""
    return redact(f"{Path(settings.data).name} · seed {settings.seed}")


def experiment_description(spec: CampaignSpec) -> str:
    """The experiment's description (the "Description" column of MLflow's experiment list)."""
    about = spec.description.strip().split("\n")[0]
    return (
        f"engage training runs on the {spec.name} campaign log: each learns which engagement "
        "style and posting mix to recommend, values it off-policy and says what ships. " + about
    ).strip()


def model_description(spec: CampaignSpec) -> str:
    """The registered model's description: what its versions recommend, for which log."""
    mix = " and posting mix" if spec.mix_columns else ""
    about = f" {spec.description.strip()}" if spec.description.strip() else ""
    return (
        f"Recommends, for a business profile of the `{spec.name}` campaign log, the engagement "
        f"style ({', '.join(spec.styles)}){mix} expected to do best on the objective over "
        f"{', '.join(spec.outcome_names)}, with alternatives and an explanation.{about}\n\n"
        "`engage serve` serves the version the `champion` alias points to; each version's "
        "description gives its DR value with interval and why it was or was not promoted."
    )


def describe_run(
    candidate: Candidate, spec: CampaignSpec, headline: str, values: Values, run_id: str
) -> Candidate:
    """The run's description (MLflow's note) and the model version's: what it recommends, its
    DR value with interval, why it was or was not promoted, where the report is; and the
    registered model's (:func:`model_description`)."""
    shipped = values["shipped"]
    dr, low, high = shipped.get("range", shipped["dr"])
    text = (
        f"{headline}\n\nDR value of the shipped policy: {dr:.4g} (95% interval {low:.4g} to "
        f"{high:.4g}, allowing for the model's error where its plans differ from the logged "
        f"ones).\nPromotion: {candidate.judgement.reason}.\nReport: artifact "
        f"`report/report.html` of run {run_id}."
    )
    tracking.set_tags({"mlflow.note.content": text})
    return dataclasses.replace(
        candidate, description=text, model_description=model_description(spec)
    )


def log_run_inputs(
    settings: TrainSettings,
    spec: CampaignSpec,
    weights: dict[str, float],
    report: ValidationReport,
    oracle: Oracle | None,
) -> None:
    """Tags, parameters and the validation report of the run, before any fitting."""
    tracking.set_tags(
        {
            "git_sha": tracking.git_sha(),
            "schema_version": SCHEMA_VERSION,
            "spec_name": spec.name,
            "spec_fingerprint": spec.fingerprint,
            "world": json.dumps(dict(oracle.description)) if oracle is not None else "none",
        }
    )
    tracking.log_params(
        {
            **settings.model_dump(mode="json", exclude={"objective"}),
            **constants(),  # how hard training worked, under the names they had as settings
            "objective_weights": json.dumps(weights),  # effective and signed, every outcome
            "rows_input": report.n_input_rows,
            # a log validated on Dask keeps its rows on the cluster and counts them
            "rows_clean": getattr(report, "n_clean", len(report.clean)),
            "rows_quarantined": (getattr(report, "n_quarantined", len(report.quarantine))),
        }
    )
    mlflow.log_text(redact(report.summary()), "validation/report.txt")
    if len(report.quarantine):
        capped = report.quarantine.head(
            MAX_QUARANTINE_ROWS_WRITTEN
        )  # rows_quarantined has the count
        mlflow.log_text(capped.to_csv(index=False), "validation/quarantine.csv")


def log_split(split: Split, settings: TrainSettings) -> str:
    """Log the split's parameters and both sides as run inputs; the training side's digest."""
    tracking.log_params(split.params)
    mlflow.log_metrics({"data.rows_train": len(split.train), "data.rows_eval": len(split.eval)})
    source = str(settings.data)
    name = Path(source).name
    digest = tracking.log_dataset(split.train.log, source, f"{name}:train", "training")
    tracking.log_dataset(split.eval.log, source, f"{name}:eval", "evaluation")
    return digest


def log_run_outputs(
    metrics: dict[str, float], timings: dict[str, float], fit_log: FitLog
) -> dict[str, float]:
    """Log every finite metric, each stage's seconds and the record of every LightGBM fit,
    then the headline figures again as ``headline.*`` metrics and in ``headline.json`` at the
    root of the artifacts (the one place MLflow's compare view looks); return all the metrics."""
    run = mlflow.active_run()
    logged = mlflow.get_run(run.info.run_id).data.metrics if run is not None else {}
    metrics = {
        **{k: v for k, v in logged.items() if k.startswith("data.")},  # rows, from _log_split
        **metrics,
        **{f"time.{name}_s": secs for name, secs in timings.items()},
        "time.total_s": sum(timings.values()),
        "time.lightgbm_fits_s": fit_log.seconds,
        "lightgbm.fits": len(fit_log.fits),
    }
    headline = tracking.headline_metrics(metrics)
    metrics.update(headline)
    mlflow.log_metrics({k: float(v) for k, v in metrics.items() if math.isfinite(float(v))})
    mlflow.log_dict({"fits": fit_log.fits}, "timings/lightgbm_fits.json")
    mlflow.log_dict(
        {k.removeprefix(tracking.HEADLINE): v for k, v in headline.items()},
        tracking.HEADLINE_ARTIFACT,
    )
    return metrics
