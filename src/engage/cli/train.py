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


#: The flags of ``engage train`` after ``--data``, each a training setting (its ``dest``):
#: (flag, setting, type, metavar, help). A help without its own ``(default: ...)`` gets the
#: setting's default and variable (:func:`~engage.cli.train_default`).
FLAGS: tuple[tuple[str, str, type | None, str | None, str], ...] = (
    (
        "--spec",
        "spec",
        None,
        None,
        "spec YAML (default: the simulated world's, or ENGAGE_TRAIN_SPEC)",
    ),
    ("--experiment", "experiment", None, None, "MLflow experiment (default: engage-<spec name>)"),
    ("--model-name", "model_name", None, None, "registered model (default: engage-<spec name>)"),
    ("--trials", "trials", int, None, "Optuna trials, 0 for default parameters"),
    ("--seed", "seed", int, None, "seed of every split, subsample and fit"),
    (
        "--min-propensity",
        "min_propensity",
        float,
        None,
        "never recommend a style below this estimated propensity",
    ),
    ("--pessimism", "pessimism", float, None, "discount for thinly supported styles, 0 disables"),
    (
        "--objective",
        "objective",
        None,
        None,
        "JSON outcome weights replacing the spec's, e.g. '{\"conversions\": 1, "
        "\"retention_30d\": 0.2}' (default: the spec's weights)",
    ),
    ("--force", "force", bool, None, "move the champion alias even if not better"),
    ("--max-rows", "max_input_rows", int, "ROWS", "refuse a log with more data rows"),
    ("--max-bytes", "max_input_bytes", int, "BYTES", "refuse a larger log file, in bytes"),
    (
        "--allow-quarantine",
        "max_quarantine_share",
        float,
        "SHARE",
        "train even if up to this share of rows was quarantined",
    ),
    (
        "--no-progress",
        "progress",
        bool,
        None,
        "do not print each stage as it runs (default: printed, or ENGAGE_TRAIN_PROGRESS)",
    ),
    (
        "--dask",
        "dask",
        None,
        "local|ADDRESS",
        "train on Dask: 'local' starts a LocalCluster sized to this machine, a scheduler "
        "address (tcp://host:8786) joins a running one; --data is then a partitioned Parquet "
        "folder, glob or file (default: one process, or ENGAGE_TRAIN_DASK)",
    ),
)


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
    for flag, setting, kind, metavar, text in FLAGS:
        if "(default:" not in text:
            text = f"{text} {train_default(setting)}"
        if kind is bool:  # --no-X turns a setting off, any other switch turns it on
            action = "store_false" if flag.startswith("--no-") else "store_true"
            p.add_argument(flag, dest=setting, action=action, default=None, help=text)
        else:
            p.add_argument(flag, dest=setting, type=kind, default=None, metavar=metavar, help=text)
    p.set_defaults(func=_train)
