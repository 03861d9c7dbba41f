"""``engage recommend-batch``: ranked recommendations for every profile of a Parquet input."""

from __future__ import annotations

import argparse
import sys


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def _run(args: argparse.Namespace) -> int:
    from engage.batch import BatchSettings, run_batch
    from engage.contract.redaction import redact
    from engage.registry import default_tracking_uri

    settings = BatchSettings(
        model_uri=args.model_uri,
        input=args.input,
        output=args.output,
        tracking_uri=default_tracking_uri(),
        top_k=args.top_k,
        explain=args.explain,
        chunk_rows=args.chunk_rows,
        dask=args.dask,
        workers=args.workers,
        id_column=args.id_column,
    )
    print(f"tracking store: {redact(settings.tracking_uri)}", file=sys.stderr)
    try:
        result = run_batch(settings)
    except FileExistsError as exc:  # the output: nothing is overwritten
        print(f"error: {redact(exc)}", file=sys.stderr)
        return 1
    print(result.summary())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``recommend-batch`` to ``engage``'s subcommands."""
    from engage.cli import examples
    from engage.serving.settings import DEFAULT_MODEL_URI

    p = subparsers.add_parser(
        "recommend-batch",
        help="score every profile of a Parquet file or folder",
        description="Write ranked recommendations (style, mix, cadence, predicted objective, "
        "support; with --explain the top factors) for every profile of a Parquet file, folder "
        "or glob, as partitioned Parquet under OUTPUT/recommendations. Profiles the API would "
        "refuse go to OUTPUT/quarantine with their reason and row number. Without --dask the "
        "input is streamed in chunks in this process; with --dask every worker loads the model "
        "once (a remote cluster must see INPUT and OUTPUT at the same paths). The tracking "
        "store is MLFLOW_TRACKING_URI, else ./mlruns/mlflow.db.",
        epilog=examples(
            "engage recommend-batch --input profiles.parquet --output scored/",
            "engage recommend-batch --input 'profiles/*.parquet' --output scored/ --dask local",
            "engage recommend-batch --model-uri models:/engage-simulated_world/3 "
            "--input profiles/ --output scored/ --dask tcp://10.0.0.5:8786 --explain",
        ),
    )
    p.add_argument(
        "--model-uri",
        dest="model_uri",
        default=DEFAULT_MODEL_URI,
        help="models:/NAME@ALIAS, models:/NAME/VERSION or an exported directory",
    )
    p.add_argument(
        "--input",
        required=True,
        help="profiles: a .parquet file, a folder of them or a glob (required)",
    )
    p.add_argument(
        "--output", required=True, help="directory to write; must not exist or be empty (required)"
    )
    p.add_argument(
        "--dask",
        default=None,
        metavar="local|ADDRESS",
        help="score on Dask: 'local' starts a LocalCluster, else a scheduler address "
        "(default: one process, streaming)",
    )
    p.add_argument(
        "--workers",
        type=_positive,
        default=2,
        help="workers of a --dask local cluster (one thread each)",
    )
    p.add_argument(
        "--top-k", dest="top_k", type=_positive, default=3, help="recommendations per profile"
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="add the first choice's explanation and factors (about 2x slower)",
    )
    p.add_argument(
        "--chunk-rows",
        dest="chunk_rows",
        type=_positive,
        default=10_000,
        help="rows per chunk (one process) or per Dask task (whole row groups)",
    )
    p.add_argument(
        "--id-column",
        dest="id_column",
        default=None,
        help="an input column copied to every output row, e.g. an account id "
        "(default: none; every row carries its input row number _row)",
    )
    p.set_defaults(func=_run)
