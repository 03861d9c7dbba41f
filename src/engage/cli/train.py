"""``engage train``: learn, evaluate, track, register and promote a policy."""

from __future__ import annotations

import argparse


def _train(args: argparse.Namespace) -> int:
    from engage.reporting.summary import print_summary
    from engage.simulation.oracle import oracle_for_log
    from engage.training.pipeline import train
    from engage.training.settings import settings_from_flags

    settings = settings_from_flags(vars(args))
    # the composition root: a simulated log's world (if any) becomes training's oracle
    data = settings.data
    if settings.dask:  # a partitioned log: its first part carries the world's settings
        from engage.training.distributed import log_parts

        data = log_parts(data)[0]
    print_summary(train(settings, oracle=oracle_for_log(data, settings.spec)))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``engage train`` to the ``engage`` parser: one flag per public training setting."""
    from engage.cli import examples, train_default

    p = sub.add_parser(
        "train",
        help="learn, evaluate, track and register a policy",
        description="Validate a log, learn a policy, evaluate it off-policy, log the run to MLflow, "
        "register a version and promote it if it beats the champion. Every option is also an "
        "ENGAGE_TRAIN_* variable; flags win.",
        epilog=examples(
            "engage train --data data/campaigns.parquet",
            "engage train --data posts.csv --spec examples/facebook_metrics.yaml --trials 10",
            "engage train --data data/campaigns.parquet --objective '{\"conversions\": 1}' --force",
        ),
    )
    p.add_argument("--data", required=True, help="the campaign log, .csv or .parquet (required)")
    p.add_argument(
        "--spec",
        default=None,
        help="spec YAML (default: the simulated world's, or ENGAGE_TRAIN_SPEC)",
    )
    p.add_argument(
        "--experiment", default=None, help="MLflow experiment (default: engage-<spec name>)"
    )
    p.add_argument(
        "--model-name",
        dest="model_name",
        default=None,
        help="registered model (default: engage-<spec name>)",
    )
    p.add_argument(
        "--trials",
        type=int,
        default=None,
        help=f"Optuna trials, 0 for default parameters {train_default('trials')}",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"seed of every split, subsample and fit {train_default('seed')}",
    )
    p.add_argument(
        "--min-propensity",
        dest="min_propensity",
        type=float,
        default=None,
        help=f"never recommend a style below this estimated propensity {train_default('min_propensity')}",
    )
    p.add_argument(
        "--pessimism",
        type=float,
        default=None,
        help=f"discount for thinly supported styles, 0 disables {train_default('pessimism')}",
    )
    p.add_argument(
        "--objective",
        default=None,
        help="JSON outcome weights replacing the spec's, e.g. '{\"conversions\": 1, \"retention_30d\": 0.2}' (default: the spec's weights)",
    )
    p.add_argument(
        "--force",
        action="store_true",
        default=None,
        help=f"move the champion alias even if not better {train_default('force')}",
    )
    _add_train_guards(p)
    p.set_defaults(func=_train)


def _add_train_guards(p: argparse.ArgumentParser) -> None:
    """The input limit, progress and Dask flags of ``engage train``."""
    from engage.cli import train_default

    p.add_argument(
        "--max-rows",
        dest="max_input_rows",
        type=int,
        default=None,
        metavar="ROWS",
        help=f"refuse a log with more data rows {train_default('max_input_rows')}",
    )
    p.add_argument(
        "--max-bytes",
        dest="max_input_bytes",
        type=int,
        default=None,
        metavar="BYTES",
        help=f"refuse a larger log file, in bytes {train_default('max_input_bytes')}",
    )
    p.add_argument(
        "--allow-quarantine",
        dest="max_quarantine_share",
        type=float,
        default=None,
        metavar="SHARE",
        help=f"train even if up to this share of rows was quarantined {train_default('max_quarantine_share')}",
    )
    p.add_argument(
        "--no-progress",
        dest="progress",
        action="store_false",
        default=None,
        help="do not print each stage as it runs (default: printed, or ENGAGE_TRAIN_PROGRESS)",
    )
    p.add_argument(
        "--dask",
        default=None,
        metavar="local|ADDRESS",
        help="train on Dask: 'local' starts a LocalCluster sized to this machine, a scheduler address (tcp://host:8786) joins a running one; --data is then a partitioned Parquet folder, glob or file (default: one process, or ENGAGE_TRAIN_DASK)",
    )
