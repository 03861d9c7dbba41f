"""``engage train``: learn a recommendation policy from a campaign log, judge it off-policy,
track it in MLflow, register it and promote it when it beats the champion.

Stages (each timed and logged as ``time.<stage>_s``):

1. validate the log against the spec (nothing is logged if it is fatally broken);
2. split: time-ordered when the spec has a timestamp, else seeded random; the evaluation
   split is never seen by any model;
3. propensity model for the logged style (cross-fitted, calibrated) and overlap diagnostics;
4. optional Optuna tuning of the outcome models (each trial a nested MLflow run);
5. cross-fitted outcome models, one per outcome, and small per-style corrections of them
   fitted on their out-of-fold residuals (``fit_style_corrections``);
6. candidate actions within the data's support, and the policy;
7. off-policy evaluation (DM, IPS, SNIPS, DR with bootstrap intervals) of the learned
   policy, the logged policy and the best constant action; the personalised policy ships
   only if its DR value beats the best constant's with 95% confidence;
8. on simulated logs, the true values from the oracle and the normalised regret;
9. the model (one pyfunc artifact), registered; ``champion`` moves only if the new policy's
   DR value beats the champion's on this run's evaluation data (or ``force``).
"""

from __future__ import annotations

import json
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from mlflow import MlflowClient
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from engage.policy import SCHEMA_VERSION
from engage.policy.candidates import build_candidates
from engage.policy.encoding import FeatureBuilder
from engage.policy.policy import Policy
from engage.contract.spec import CampaignSpec, load_spec
from engage.contract.validation import ValidationReport, validate_file
from engage.training import evaluation as ope
from engage.training import plots, tracking
from engage.training.models import (
    DEFAULT_PARAMS,
    FitLog,
    fit_outcomes,
    fit_propensity,
    fit_style_corrections,
)
from engage.training.progress import Progress
from engage.simulation.world import OUTCOMES, Actions, SimulatedWorld

WORLD_METADATA_KEY = b"engage.world"


class TrainingError(RuntimeError):
    """Training cannot go on (the message says why); nothing has been registered."""


class TrainSettings(BaseSettings):
    """Settings of one training run; every field can be set as ``ENGAGE_TRAIN_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="ENGAGE_TRAIN_", extra="forbid")

    data: Path
    spec: Path | None = None
    experiment: str = "engage"
    model_name: str = "engage-policy"
    trials: int = Field(default=5, ge=0, description="Optuna trials (0: default parameters)")
    tuning_rows: int = Field(default=20_000, ge=1_000, description="rows Optuna tunes on")
    seed: int = 0
    folds: int = Field(default=3, ge=2, le=10)
    eval_fraction: float = Field(default=0.25, gt=0.05, lt=0.9)
    min_propensity: float = Field(default=0.005, ge=0, lt=1, description="hard support floor: styles below it are never recommended (the pessimism discount handles thin support above it)")
    pessimism: float = Field(default=1.5, ge=0, description="support discount strength (0: none)")
    style_correction_rounds: int = Field(default=50, ge=0, description="rounds of the per-style residual corrections of the outcome models (0: none)")
    mix_prototypes: int = Field(default=8, ge=1, le=20, description="k-means mix prototypes per style")
    decision_quantiles: int = Field(default=7, ge=1, le=15, description="quantiles of each numeric decision per style")
    ope_clip: float = Field(default=0.05, gt=0, lt=1, description="propensity floor in IPS/DR weights")
    n_boot: int = Field(default=200, ge=20)
    propensity_rows: int = Field(default=200_000, ge=1_000, description="cap on rows the propensity model fits on")
    max_eval_rows: int = Field(default=5_000, ge=1_000, description="cap on evaluation rows scored by OPE (each is scored over every candidate action)")
    max_metric_rows: int = Field(default=100_000, ge=1_000, description="cap on evaluation rows for the outcome models' predictive metrics")
    oracle_rows: int = Field(default=2_000, ge=100, description="profiles the oracle scores")
    objective: dict[str, float] = Field(default_factory=dict)
    force: bool = False
    register_model: bool = True
    mlruns: Path = Path("mlruns")
    progress: bool = True


@dataclass
class TrainResult:
    """What a run produced, for the summary table and for tests."""

    run_id: str
    experiment_id: str
    tracking_uri: str
    policy: Policy
    metrics: dict[str, float]
    values: dict[str, dict[str, tuple[float, float, float]]]
    mode: str
    decision_reason: str
    model_uri: str | None = None
    version: str | None = None
    promoted: bool = False
    promotion_reason: str = ""
    validation: ValidationReport | None = None
    fit_log: FitLog = field(default_factory=FitLog)
    timings: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------- helpers


def read_world(path: Path) -> dict[str, Any] | None:
    """The simulated world's settings stored in a Parquet log by ``engage simulate``."""
    if path.suffix.lower() not in {".parquet", ".pq"}:
        return None
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(WORLD_METADATA_KEY)
    return json.loads(raw) if raw else None


def split_log(log: pd.DataFrame, spec: CampaignSpec, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray, str]:
    """Indices of the training and evaluation rows, and how the split was made."""
    n = len(log)
    if spec.timestamp:
        n_eval = max(1, int(round(n * fraction)))
        order = np.argsort(log[spec.timestamp].to_numpy(), kind="stable")
        return np.sort(order[: n - n_eval]), np.sort(order[n - n_eval :]), "time"
    # Stratified by style, so a rare style keeps rows on both sides of the split.
    rng = np.random.default_rng(seed)
    styles = log[spec.style.name].to_numpy()
    eval_idx = []
    for style in np.unique(styles):
        idx = rng.permutation(np.flatnonzero(styles == style))
        take = int(round(len(idx) * fraction)) if len(idx) > 1 else 0
        eval_idx.append(idx[:take])
    ev = np.sort(np.concatenate(eval_idx))
    return np.setdiff1d(np.arange(n), ev), ev, "random"


def overlap_diagnostics(prop: np.ndarray, logged: np.ndarray, styles: list[str], threshold: float) -> dict[str, float]:
    """Smallest propensities, effective sample size and unsupported share per style."""
    out: dict[str, float] = {
        "overlap.min_logged_propensity": float(prop[np.arange(len(logged)), logged].min()),
        "overlap.min_propensity": float(prop.min()),
    }
    for k, style in enumerate(styles):
        w = np.where(logged == k, 1.0 / np.maximum(prop[:, k], 1e-6), 0.0)
        out[f"overlap.ess.{style}"] = ope.effective_sample_size(w)
        out[f"overlap.unsupported_share.{style}"] = float((prop[:, k] < threshold).mean())
    return out


@contextmanager
def _stage(timings: dict[str, float], name: str, progress: Progress):
    progress.start(name)
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    progress.done(name, timings[name])


def _objective(preds: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    return sum(weights[o] * preds[o] for o in weights)


# ---------------------------------------------------------------------- the run


def train(settings: TrainSettings) -> TrainResult:
    """Run the whole pipeline (see the module docstring)."""
    progress = Progress(enabled=settings.progress)
    timings: dict[str, float] = {}
    spec = load_spec(settings.spec)
    weights = spec.outcome_weights(settings.objective)

    with _stage(timings, "validate", progress):
        report = validate_file(settings.data, spec)
        report.raise_if_fatal()
        log = report.clean
    if len(spec.styles) < 2:
        raise TrainingError("the spec declares a single style: there is nothing to choose between")
    if len(log) < 200:
        raise TrainingError(f"only {len(log)} valid rows: at least 200 are needed to train")

    world_meta = read_world(settings.data) if spec.name == "simulated_world" else None
    tracking_uri = tracking.configure_tracking(settings.experiment, settings.mlruns)
    fit_log = FitLog()
    with mlflow.start_run() as run:
        try:
            result = _run(settings, spec, weights, log, report, world_meta, fit_log, timings, progress, run)
        except BaseException:
            progress.close()
            raise
    progress.close()
    result.tracking_uri = tracking_uri
    return result


def _run(settings, spec, weights, log, report, world_meta, fit_log, timings, progress, run) -> TrainResult:
    builder = FeatureBuilder(spec)
    styles = spec.styles
    metrics: dict[str, float] = {}
    mlflow.set_tags(
        {
            "git_sha": tracking.git_sha(),
            "schema_version": SCHEMA_VERSION,
            "spec_name": spec.name,
            "spec_fingerprint": spec.fingerprint,
            "world": json.dumps(world_meta) if world_meta else "none",
        }
    )
    mlflow.log_params(
        {
            **{k: v for k, v in settings.model_dump(mode="json").items() if k not in {"objective"}},
            "objective_weights": json.dumps(weights),
            "rows_input": report.n_input_rows,
            "rows_clean": len(log),
            "rows_quarantined": len(report.quarantine),
        }
    )
    mlflow.log_text(report.summary(), "validation/report.txt")
    if len(report.quarantine):
        mlflow.log_text(report.quarantine.to_csv(index=False), "validation/quarantine.csv")

    # ---- split
    with _stage(timings, "split", progress):
        tr, ev, how = split_log(log, spec, settings.eval_fraction, settings.seed)
        train_log, eval_log = log.iloc[tr].reset_index(drop=True), log.iloc[ev].reset_index(drop=True)
        missing = sorted(set(styles) - set(train_log[spec.style.name]))
        if missing:
            raise TrainingError(f"styles {missing} have no rows in the training split")
        ctx_tr, dec_tr = builder.encode_context(train_log), builder.encode_decisions(train_log)
        ctx_ev, dec_ev = builder.encode_context(eval_log), builder.encode_decisions(eval_log)
        X_tr, X_ev = np.hstack([ctx_tr, dec_tr]), np.hstack([ctx_ev, dec_ev])
        style_tr, style_ev = dec_tr[:, 0].astype(int), dec_ev[:, 0].astype(int)
        y_tr = {o: train_log[o].to_numpy(float) for o in spec.outcome_names}
        y_ev = {o: eval_log[o].to_numpy(float) for o in spec.outcome_names}
        mlflow.log_params({"split": how, "rows_train": len(tr), "rows_eval": len(ev)})
        source = str(settings.data)
        train_digest = tracking.log_dataset(train_log, source, f"{Path(source).name}:train", "training")
        tracking.log_dataset(eval_log, source, f"{Path(source).name}:eval", "evaluation")
    ctx_cat = [i for i in builder.categorical_indices if i < len(builder.context_names)]

    # ---- propensity
    with _stage(timings, "propensity", progress):
        # The propensity model needs far fewer rows than the outcome models: cap it.
        prop_rows = np.arange(len(tr))
        if len(tr) > settings.propensity_rows:
            prop_rows = np.sort(np.random.default_rng(settings.seed).choice(len(tr), settings.propensity_rows, replace=False))
        mlflow.log_param("rows_propensity", len(prop_rows))
        prop_model = fit_propensity(
            ctx_tr[prop_rows], style_tr[prop_rows], len(styles), categorical=ctx_cat, folds=settings.folds,
            seed=settings.seed, fit_log=fit_log,
        )
        prop_ev = prop_model.predict(ctx_ev)
        metrics.update(overlap_diagnostics(prop_ev, style_ev, styles, settings.min_propensity))
        metrics["propensity.temperature"] = prop_model.temperature
        metrics["propensity.eval_log_loss"] = float(-np.log(prop_ev[np.arange(len(ev)), style_ev] + 1e-12).mean())

    # ---- tuning
    params = dict(DEFAULT_PARAMS)
    with _stage(timings, "tuning", progress):
        if settings.trials > 0:
            from engage.training.tuning import tune_outcome_params

            params.update(
                tune_outcome_params(
                    X_tr, y_tr, categorical=builder.categorical_indices, trials=settings.trials,
                    rows=settings.tuning_rows, seed=settings.seed, fit_log=fit_log,
                )
            )
        mlflow.log_params({f"lgbm.{k}": v for k, v in params.items() if k != "verbose"})

    # ---- outcome models
    with _stage(timings, "outcomes", progress):
        outcomes = fit_outcomes(
            X_tr, y_tr, categorical=builder.categorical_indices, folds=settings.folds,
            seed=settings.seed, params=params, fit_log=fit_log,
        )
        # Per-style corrections of the shared model's style effects, fitted on its out-of-fold
        # residuals (see fit_style_corrections); they are part of every prediction below.
        corrections = fit_style_corrections(
            ctx_tr, style_tr, {o: y_tr[o] - outcomes.oof[o] for o in spec.outcome_names}, len(styles),
            categorical=ctx_cat, seed=settings.seed, rounds=settings.style_correction_rounds, fit_log=fit_log,
        )
        # out-of-fold predictions with corrections, on the rows the best constant's DR term uses
        corr_tr = _correct(corrections, ctx_tr[prop_rows], style_tr[prop_rows], spec.outcome_names)
        oof_corrected = {o: outcomes.oof[o].copy() for o in spec.outcome_names}
        for o in spec.outcome_names:
            oof_corrected[o][prop_rows] += corr_tr[o]
        # eval.* metrics (models alone) on the evaluation split, a seeded sample of it when large
        fit_rows = np.arange(len(ev))
        if len(ev) > settings.max_metric_rows:
            fit_rows = np.sort(np.random.default_rng(settings.seed).choice(len(ev), settings.max_metric_rows, replace=False))
        mlflow.log_param("rows_eval_metrics", len(fit_rows))
        y_fit = {o: y_ev[o][fit_rows] for o in spec.outcome_names}
        pred_ev = {o: outcomes.boosters[o].predict(X_ev[fit_rows]) for o in spec.outcome_names}
        for o in spec.outcome_names:
            resid = y_fit[o] - pred_ev[o]
            metrics[f"eval.{o}.rmse"] = float(np.sqrt(np.mean(resid**2)))
            metrics[f"eval.{o}.r2"] = float(1 - resid.var() / max(y_fit[o].var(), 1e-12))
        halfwidth = {
            o: float(np.quantile(np.abs(y_tr[o] - outcomes.oof[o]), 0.9)) for o in spec.outcome_names
        }

    # ---- candidates and policy
    with _stage(timings, "policy", progress):
        q = settings.decision_quantiles
        quantiles = tuple(np.round(np.linspace(0.1, 0.9, q), 3)) if q > 1 else (0.5,)
        candidates = build_candidates(
            train_log, spec, n_mix_prototypes=settings.mix_prototypes, quantiles=quantiles, seed=settings.seed
        )
        typical = _typical_actions(train_log, spec, builder)
        policy = Policy(
            spec=spec, outcome_models=outcomes.boosters, propensity_model=prop_model.booster,
            candidates=candidates, typical_actions=typical,
            propensity_temperature=prop_model.temperature, min_propensity=settings.min_propensity,
            pessimism=settings.pessimism, n_train=len(tr),
            score_sd=float(np.std(_objective({o: y_tr[o] - outcomes.oof[o] for o in weights}, weights))),
            interval_halfwidth=halfwidth, interval_level=0.9, style_corrections=corrections,
            objective=dict(settings.objective),
        )
        rng = np.random.default_rng(settings.seed)
        constant = _best_constant(policy, ctx_tr, style_tr, y_tr, oof_corrected, prop_model.oof, weights, settings, rng, sub=prop_rows)
        metrics["policy.candidates"] = len(candidates)

    # ---- off-policy evaluation on the evaluation split
    with _stage(timings, "evaluation", progress):
        m = min(len(ev), settings.max_eval_rows)
        sub = np.sort(rng.choice(len(ev), size=m, replace=False)) if m < len(ev) else np.arange(len(ev))
        ctx_s = ctx_ev[sub]
        reward = _objective({o: y_ev[o][sub] for o in weights}, weights)
        q_logged = policy.predict_outcomes(X_ev[sub]) @ policy.weights(settings.objective)  # with corrections
        if spec.propensity:
            p_logged = eval_log[spec.propensity].to_numpy(float)[sub]
            mlflow.log_param("ope_propensity", "logged")
        else:
            p_logged = prop_ev[sub, style_ev[sub]]
            mlflow.log_param("ope_propensity", "estimated")
        clipped = int((p_logged < settings.ope_clip).sum())
        metrics["overlap.clipped_rows"] = clipped
        data = ope.LoggedData(reward=reward, style=style_ev[sub], propensity=np.maximum(p_logged, settings.ope_clip), q_logged=q_logged)
        ranked = policy.rank(ctx_s, settings.objective)
        scores_s, learned = ranked["scores"], ranked["choice"]
        const_choice = np.full(m, constant)
        targets = {
            "learned": (candidates.style_codes[learned], scores_s[np.arange(m), learned]),
            "best_constant": (candidates.style_codes[const_choice], scores_s[:, constant]),
        }
        values: dict[str, dict[str, tuple[float, float, float]]] = {}
        for name, (t_style, q_t) in targets.items():
            est = ope.estimate_policy_value(data, t_style, q_t, n_boot=settings.n_boot, seed=settings.seed)
            values[name] = {k: (e.value, e.low, e.high) for k, e in est.items()}
        logged_est = ope.logged_policy_value(data)
        values["logged"] = {"observed": (logged_est.value, logged_est.low, logged_est.high)}
        gain = ope.compare_policies(data, targets["learned"], targets["best_constant"], estimator="dr", n_boot=settings.n_boot, seed=settings.seed)
        metrics.update({"policy.dr_gain_vs_constant": gain.value, "policy.dr_gain_vs_constant_low": gain.low, "policy.dr_gain_vs_constant_high": gain.high})
        if gain.low > 0:
            mode, reason = "personalized", f"personalised DR value beats the best constant by {gain.value:.3f} (95% interval {gain.low:.3f} to {gain.high:.3f})"
        else:
            mode, reason = "constant", f"personalised DR gain over the best constant is not significant ({gain.value:.3f}, 95% interval {gain.low:.3f} to {gain.high:.3f}); shipping the best constant action"
        policy.mode = mode
        policy.constant_action = constant
        values["shipped"] = values["learned" if mode == "personalized" else "best_constant"]
        metrics["policy.personalized"] = float(mode == "personalized")
        mlflow.set_tag("policy_mode", mode)
        mlflow.set_tag("policy_decision", reason)
        for pol, ests in values.items():
            for est_name, (v, lo, hi) in ests.items():
                metrics[f"ope.{pol}.{est_name}"] = v
                metrics[f"ope.{pol}.{est_name}_low"] = lo
                metrics[f"ope.{pol}.{est_name}_high"] = hi

    # ---- ground truth on simulated logs
    with _stage(timings, "oracle", progress):
        if world_meta:
            truth = _true_values(world_meta, spec, eval_log, sub, learned, constant, mode, policy, settings)
            metrics.update(truth)
            for pol in ("learned", "best_constant", "logged", "shipped"):
                if f"true.{pol}" in truth:
                    values.setdefault(pol, {})["true"] = (truth[f"true.{pol}"],) * 3

    # ---- plots
    with _stage(timings, "plots", progress):
        _log_figure(plots.plot_propensity_overlap(prop_ev, style_ev, styles, clip=settings.min_propensity), "propensity_overlap.png")
        _log_figure(plots.plot_calibration(style_ev, prop_ev, styles), "propensity_calibration.png")
        _log_figure(plots.plot_policy_values(values, oracle=metrics.get("true.oracle")), "policy_values.png")
        importances = {
            o: dict(zip(builder.feature_names, outcomes.boosters[o].feature_importance("gain").tolist(), strict=True))
            for o in spec.outcome_names
        }
        _log_figure(plots.plot_feature_importance(importances), "feature_importance.png")
        _log_figure(plots.plot_outcome_fit(y_fit, pred_ev), "outcome_fit.png")

    # ---- champion comparison, model, registry
    result = TrainResult(
        run_id=run.info.run_id, experiment_id=run.info.experiment_id, tracking_uri="",
        policy=policy, metrics=metrics, values=values, mode=mode, decision_reason=reason,
        validation=report, fit_log=fit_log, timings=timings,
    )
    with _stage(timings, "register", progress):
        policy.metadata = {
            "run_id": run.info.run_id,
            "trained_at": pd.Timestamp.now(tz="UTC").isoformat(),
            "metrics": {k: v for k, v in metrics.items() if math.isfinite(v)},
            "mode": mode,
            "decision": reason,
            "spec_fingerprint": spec.fingerprint,
        }
        new_dr = values["shipped"]["dr"][0]
        promote, promo_reason = _promotion(settings, spec, policy, ctx_s, data, new_dr)
        metrics["policy.shipped_dr"] = new_dr
        example = eval_log[spec.context_names].head(2)
        info = tracking.log_policy_model(policy, example)
        result.model_uri = info.model_uri
        if settings.register_model:
            version = tracking.register(
                info.model_uri, settings.model_name,
                {"run_id": run.info.run_id, "schema_version": SCHEMA_VERSION, "spec_fingerprint": spec.fingerprint,
                 "git_sha": tracking.git_sha(), "data_digest": train_digest, "policy_mode": mode},
            )
            result.version = str(version.version)
            if promote:
                tracking.promote(settings.model_name, version.version)
        result.promoted = bool(promote and settings.register_model)
        result.promotion_reason = promo_reason if settings.register_model else "registration disabled"
        mlflow.set_tags({"promoted": str(result.promoted).lower(), "promotion_reason": result.promotion_reason})
        if result.version:
            mlflow.set_tag("model_version", result.version)
    for name, secs in timings.items():
        metrics[f"time.{name}_s"] = secs
    metrics["time.lightgbm_fits_s"] = fit_log.seconds
    metrics["lightgbm.fits"] = len(fit_log.fits)
    mlflow.log_metrics({k: float(v) for k, v in metrics.items() if math.isfinite(float(v))})
    mlflow.log_dict({"fits": fit_log.fits}, "timings/lightgbm_fits.json")
    return result


def _best_constant(policy, ctx_tr, style_tr, y_tr, oof, prop_oof, weights, settings, rng, sub) -> int:
    """The best single action for everyone, chosen on the training split with a DR correction.

    DM alone (mean predicted objective of each candidate) inherits the outcome model's
    style-level bias on a confounded log; the doubly robust term adds, per style, the
    inverse-propensity-weighted mean out-of-fold residual of the rows that logged it.
    """
    pick = rng.choice(len(ctx_tr), size=min(len(ctx_tr), 2_000), replace=False)
    _, cand_scores = policy.score_candidates(ctx_tr[pick], settings.objective)
    dm = cand_scores.mean(0)
    # out-of-fold residuals and propensities exist for the rows the propensity model saw
    resid = _objective({o: y_tr[o][sub] - oof[o][sub] for o in weights}, weights)
    styles = style_tr[sub]
    p = np.maximum(prop_oof[np.arange(len(sub)), styles], settings.ope_clip)
    correction = np.array(
        [np.sum(np.where(styles == k, resid / p, 0.0)) / len(sub) for k in range(len(policy.spec.styles))]
    )
    return int(np.argmax(dm + correction[policy.candidates.style_codes]))


def _correct(corrections, context: np.ndarray, style: np.ndarray, outcomes: list[str]) -> dict[str, np.ndarray]:
    """Each row's per-style correction of every outcome (0 without corrections)."""
    if corrections is None:
        return {o: np.zeros(len(context)) for o in outcomes}
    c = corrections.for_rows(context, style)
    return {o: c[:, corrections.outcomes.index(o)] for o in outcomes}


def _log_figure(fig, name: str) -> None:
    import matplotlib.pyplot as plt

    mlflow.log_figure(fig, f"plots/{name}")
    plt.close(fig)


def _typical_actions(log: pd.DataFrame, spec: CampaignSpec, builder: FeatureBuilder) -> np.ndarray:
    """Encoded typical logged action of each style: mean mix, median numbers, modal categories."""
    rows = []
    for style in spec.styles:
        part = log[log[spec.style.name] == style]
        row: dict[str, Any] = {spec.style.name: style}
        for col in spec.mix_columns:
            row[col] = float(part[col].mean())
        for col in spec.extra_decisions:
            row[col.name] = part[col.name].mode().iloc[0] if col.type == "categorical" else float(part[col.name].median())
        rows.append(row)
    return builder.encode_decisions(pd.DataFrame(rows, columns=spec.decision_names))


def _true_values(world_meta, spec, eval_log, sub, learned, constant, mode, policy, settings) -> dict[str, float]:
    """True values (oracle) of the policies on a fixed subsample of evaluation profiles."""
    world = SimulatedWorld(world_meta["difficulty"], world_meta.get("decisions", "full"), spec)
    w = spec.outcome_weights(settings.objective)
    world.weights = np.array([w[o] for o in OUTCOMES])
    k = min(settings.oracle_rows, len(sub))
    pick = np.arange(k)
    profiles = eval_log.iloc[sub[pick]].reset_index(drop=True)
    cand = policy.candidates.frame

    def actions(idx: np.ndarray) -> Actions:
        return Actions.from_frame(cand.iloc[idx].reset_index(drop=True))

    out = {
        "true.learned": world.policy_value(profiles, actions(learned[pick])),
        "true.best_constant": world.policy_value(profiles, actions(np.full(k, constant))),
        "true.logged": world.policy_value(profiles, Actions.from_frame(profiles)),
    }
    _, best = world.best_actions(profiles[spec.context_names])
    out["true.oracle"] = float(best.mean())
    out["true.shipped"] = out["true.learned" if mode == "personalized" else "true.best_constant"]
    gap = out["true.oracle"] - out["true.logged"]
    for pol in ("learned", "best_constant", "shipped"):
        out[f"regret.{pol}"] = (out["true.oracle"] - out[f"true.{pol}"]) / gap if gap > 0 else float("nan")
    return out


def _promotion(settings, spec, policy, ctx_s, data, new_dr) -> tuple[bool, str]:
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
    if old.spec.fingerprint != spec.fingerprint:
        return False, f"champion v{current.version} was trained on another spec; not comparable (use --force)"
    old_choice = old.choose(ctx_s, settings.objective)
    # Judge the champion's choices with this run's nuisance models, on the same rows.
    old_rows = old.candidates.encoded[old_choice]
    q_old = policy.predict_outcomes(np.hstack([ctx_s, old_rows])) @ policy.weights(settings.objective)
    old_est = ope.estimate_policy_value(data, old_rows[:, 0].astype(int), q_old, n_boot=settings.n_boot, seed=settings.seed)["dr"]
    if new_dr > old_est.value:
        return True, f"DR {new_dr:.4f} beats champion v{current.version}'s {old_est.value:.4f} on this evaluation data"
    return False, f"DR {new_dr:.4f} does not beat champion v{current.version}'s {old_est.value:.4f}; champion kept"

