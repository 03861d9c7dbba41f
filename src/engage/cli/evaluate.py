"""``engage evaluate``: the off-policy value of a model's policy on a log of recorded decisions.

The log must carry the probability each logged style was chosen with (the propensity column of
``engage decisions export``, or a randomised experiment's constant): IPS, SNIPS and DR then
rest on known propensities, not on an estimated logging model. The estimators, the DR range
and the metric names are training's (:mod:`engage.ope`); the logged policy's value is the mean
observed objective. The result is logged as an MLflow run in the model's experiment with
training's metric names (``ope.shipped.<estimator>[_low|_high]``, ``ope.logged.observed``,
:func:`engage.ope.value_metrics`), so a challenger and the champion can be compared side by
side before promotion.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

#: what each estimator values, for the printed table
_LABELS = {
    "dm": "DM (model read-out)",
    "ips": "IPS",
    "snips": "SNIPS",
    "dr": "DR",
    "range": "DR range",
    "kips": "kernel IPS",
    "ksnips": "kernel SNIPS",
    "kdr": "kernel DR",
}


@dataclass(frozen=True)
class PolicyValue:
    """A policy's estimated value on the log: ``{estimator: (value, low, high)}``."""

    label: str
    uri: str
    estimates: dict[str, tuple[float, float, float]]
    agreement: float  # share of rows whose logged style is the policy's
    full: dict[str, tuple[float, float, float]] | None = None  # kernel estimates, full action


def logged_data(policy, frame: pd.DataFrame, spec, objective=None):
    """Training's ``LoggedData`` of a validated log, with the log's recorded propensities.

    Raises:
        ValueError: the log records no propensities (naming the spec's missing declaration),
            or some are not in (0, 1] (with the count).
    """
    from engage import ope
    from engage.policy.policy import weighted

    p = spec.logged_propensity(frame)
    if p is None:
        raise ValueError(
            "the log records no propensities (its spec declares no `propensity:` column); "
            "evaluate needs recorded ones, e.g. a log written by `engage decisions export`"
        )
    bad = int(((p <= 0) | (p > 1) | ~np.isfinite(p)).sum())
    if bad:
        raise ValueError(f"{bad:,} rows of column {spec.propensity_column!r} are not in (0, 1]")
    weights = policy.weights(objective)
    names = [o for o in spec.outcome_names if o in policy.outcome_models]
    outcomes = frame[names].to_numpy(dtype=float)
    reward = weighted(outcomes, weights)  # the one weighted objective training uses too
    decisions = policy.builder.encode_decisions(frame)
    X = np.hstack([policy.builder.encode_context(frame), decisions])
    q_logged = weighted(policy.predict_outcomes(X), weights)
    style = decisions[:, 0].astype(int)  # the style is the first decision
    return ope.LoggedData(reward=reward, style=style, propensity=p, q_logged=q_logged)


def value_of(policy, frame: pd.DataFrame, data, objective=None, *, n_boot=200, seed=0):
    """IPS, SNIPS, DR, DM and the DR range of ``policy`` on ``data`` (estimates and agreement
    with the log)."""
    from engage import ope

    ranked = policy.rank(policy.builder.encode_context(frame), objective)
    chosen = ranked.chosen  # candidate rows (``choice`` is a position among each profile's)
    style = policy.candidates.style_codes[chosen]
    q = ranked.chosen_objective
    est = ope.estimate_policy_value(data, style, q, n_boot=n_boot, seed=seed)
    est = ope.with_range(
        est, data, style, policy.candidates.encoded[chosen], policy.builder.encode_decisions(frame)
    )
    return ope.as_triples(est), float(np.mean(style == data.style))


def _load(uri: str, tracking_uri: str):
    from engage.serving.model import ModelLoader

    return ModelLoader(tracking_uri).load(uri)


def _default_spec(data: Path) -> str | None:
    beside = data.with_name(data.stem + ".spec.yaml")
    return str(beside) if beside.is_file() else None


def _evaluate(args: argparse.Namespace) -> int:
    from engage import ope
    from engage.contract.spec import load_spec
    from engage.contract.validation import validate_file
    from engage.decisions.valuation import full_action_value
    from engage.registry import default_tracking_uri

    tracking = default_tracking_uri()
    model = _load(args.model_uri, tracking)
    data_path = Path(args.data)
    spec_file = args.spec or _default_spec(data_path)
    spec = load_spec(spec_file) if spec_file else model.policy.spec
    if spec.name != model.policy.spec.name:
        raise ValueError(
            f"the log's spec is {spec.name!r} but the model was trained on {model.policy.spec.name!r}"
        )
    report = validate_file(data_path, spec)
    report.raise_if_fatal()
    frame = report.clean
    data = logged_data(model.policy, frame, spec)
    logged = ope.logged_policy_value(data, n_boot=args.n_boot, seed=args.seed)
    values = []
    missing = 0
    for label, uri, m in [("candidate", args.model_uri, model)] + (
        [("champion", args.champion_uri, _load(args.champion_uri, tracking))]
        if args.champion_uri
        else []
    ):
        est, agree = value_of(m.policy, frame, data, n_boot=args.n_boot, seed=args.seed)
        full, missing = full_action_value(
            m.policy, frame, spec, data, n_boot=args.n_boot, seed=args.seed
        )
        values.append(PolicyValue(label, uri, est, agree, ope.as_triples(full) if full else None))
    _print(values, logged, len(frame), len(report.quarantine), missing)
    if not args.no_log:
        run_id = _log_run(model, values, logged, data_path, len(frame), tracking)
        print(f"logged as MLflow run {run_id} in the model's experiment")
    return 0


def _print(
    values: list[PolicyValue], logged, rows: int, quarantined: int, missing: int = 0
) -> None:
    from engage.contract.messages import counted

    print(
        f"{counted(rows, 'recorded decision')} ({counted(quarantined, 'quarantined row')} left out); "
        "propensities: recorded"
    )
    if values and values[0].full is None:
        print(
            "full action not valued: no decision carries a recorded density of its mix and "
            "cadence (served without full-action exploration)"
        )
    elif missing:
        print(
            f"full action: {counted(missing, 'decision')} served with the policy's own mix and "
            "cadence (no recorded density) count only through the model in the kernel DR"
        )
    print(f"logged policy (observed): {logged.value:.4f}  [{logged.low:.4f}, {logged.high:.4f}]")
    for v in values:
        print(f"{v.label} {v.uri} (picks the logged style in {v.agreement:.0%} of rows):")
        print("  style only (the logged mix and cadence of matched rows):")
        for k in ("ips", "snips", "dr", "dm", "range"):
            value, low, high = v.estimates[k]
            print(f"    {_LABELS[k]:<20} {value:.4f}  [{low:.4f}, {high:.4f}]")
        if v.full is not None:
            print("  full action (style, mix and cadence; kernel-smoothed, recorded densities):")
            for k in ope_kernel_names():
                value, low, high = v.full[k]
                print(f"    {_LABELS[k]:<20} {value:.4f}  [{low:.4f}, {high:.4f}]")


def ope_kernel_names() -> tuple[str, ...]:
    from engage import ope

    return ope.KERNEL_ESTIMATORS


def _log_run(model, values, logged, data: Path, rows: int, tracking: str) -> str:
    import mlflow
    from mlflow import MlflowClient

    from engage.contract.redaction import redact
    from engage.registry import owner_tags

    mlflow.set_tracking_uri(tracking)
    experiment_id = None
    if model.run_id:
        try:
            experiment_id = MlflowClient().get_run(model.run_id).info.experiment_id
        except Exception:  # noqa: BLE001 - an exported model's run may be elsewhere
            experiment_id = None
    from engage import ope

    recorded: ope.Values = {"logged": {"observed": (logged.value, logged.low, logged.high)}}
    for v in values:
        recorded["shipped" if v.label == "candidate" else "champion"] = {
            **v.estimates,
            **(v.full or {}),
        }
    metrics = {**ope.value_metrics(recorded), "data.rows": float(rows)}
    name = f"evaluate {model.name or 'model'} v{model.version or '?'} on {data.name}"
    with mlflow.start_run(experiment_id=experiment_id, run_name=name, tags=owner_tags()) as run:
        mlflow.set_tags(
            {
                "engage.run_kind": "evaluation",
                "engage.evaluated_model": redact(model.uri),
                "engage.evaluated_version": str(model.version),
                "engage.data": str(data),
            }
        )
        mlflow.log_params({"ope_propensity": "logged", "data": str(data)})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if np.isfinite(v)})
        return run.info.run_id


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``engage evaluate``."""
    from engage.cli import examples

    p = subparsers.add_parser(
        "evaluate",
        help="value a model's policy on recorded decisions (off-policy)",
        description="Estimate (IPS, SNIPS, DR, with bootstrap intervals) the value of a model's "
        "policy on a log with recorded propensities, beside the value the logged decisions "
        "actually obtained; log it as an MLflow run in the model's experiment.",
        epilog=examples(
            "engage evaluate --model-uri models:/engage-simulated_world/4 --data data/decisions.parquet",
            "engage evaluate --model-uri models:/engage-simulated_world/4 --data d.parquet "
            "--champion-uri models:/engage-simulated_world@champion",
        ),
    )
    p.add_argument(
        "--model-uri", dest="model_uri", required=True, help="the model to evaluate (required)"
    )
    p.add_argument(
        "--data", required=True, help="log with recorded propensities, .parquet or .csv (required)"
    )
    p.add_argument(
        "--spec",
        default=None,
        help="the log's spec (default: <data>.spec.yaml beside the log, else the model's)",
    )
    p.add_argument(
        "--champion-uri",
        dest="champion_uri",
        default=None,
        help="also value this model, e.g. the champion (default: not used)",
    )
    p.add_argument(
        "--n-boot", dest="n_boot", type=int, default=200, help="bootstrap draws of the intervals"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument(
        "--no-log", dest="no_log", action="store_true", help="print only; log no MLflow run"
    )
    p.set_defaults(func=_evaluate)
