"""``engage validate``: check a log against its spec and quarantine bad rows."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engage.contract.validation import ValidationReport


def _validate(args: argparse.Namespace) -> int:
    from engage.contract.quarantine import default_quarantine_path
    from engage.contract.spec import load_spec
    from engage.contract.validation import InputLimits, validate_file

    data = Path(args.data)
    quarantine = Path(args.quarantine) if args.quarantine else default_quarantine_path(data)
    limits = InputLimits(
        max_rows=args.max_rows,
        max_bytes=args.max_bytes,
        names={"max_rows": "--max-rows", "max_bytes": "--max-bytes"},
    )
    report = validate_file(data, load_spec(args.spec), quarantine_path=quarantine, limits=limits)
    print(report.summary())
    if len(report.quarantine):
        print(f"quarantined rows written to {quarantine}")
    if report.fatal:
        return 1
    return _refused_for_quarantine(report, data, args.max_quarantine_share)


def _refused_for_quarantine(report: ValidationReport, data: Path, allow: float | None) -> int:
    """1 (and why) when ``engage train`` would refuse the log for its quarantined share."""
    from engage.training.intake import quarantine_opt_in, quarantine_share_problem
    from engage.training.settings import settings_from_flags

    limit = settings_from_flags({"data": data, "max_quarantine_share": allow}).max_quarantine_share
    if (problem := quarantine_share_problem(report, limit)) is None:
        return 0
    print(
        f"error: {problem}; `engage train` would refuse this log. Fix the data, or {quarantine_opt_in(report)}.",
        file=sys.stderr,
    )
    return 1


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``engage validate`` to the ``engage`` parser."""
    from engage.cli import examples, train_default
    from engage.contract.limits import InputLimits
    from engage.contract.quarantine import QUARANTINE_DIR

    p = sub.add_parser(
        "validate",
        help="check a log against its spec",
        description="Check a campaign log against its spec; report every problem at once and write bad rows to a quarantine file.",
        epilog=examples(
            "engage validate --data data/campaigns.parquet",
            "engage validate --data posts.csv --spec examples/facebook_metrics.yaml",
            "engage validate --data posts.csv --spec my.yaml --quarantine bad_rows.csv",
        ),
    )
    p.add_argument("--data", required=True, help="the campaign log, .csv or .parquet (required)")
    p.add_argument("--spec", default=None, help="spec YAML (default: the simulated world's)")
    p.add_argument(
        "--quarantine",
        default=None,
        help=f"where to write quarantined rows (default: {QUARANTINE_DIR.as_posix()}/<data name>.quarantine.csv "
        "under the working directory, created as needed)",
    )
    p.add_argument(
        "--max-rows",
        dest="max_rows",
        type=int,
        default=InputLimits.max_rows,
        help=f"refuse a log with more data rows (default: {InputLimits.max_rows:,})",
    )
    p.add_argument(
        "--max-bytes",
        dest="max_bytes",
        type=int,
        default=InputLimits.max_bytes,
        help=f"refuse a larger file, in bytes (default: {InputLimits.max_bytes:,})",
    )
    p.add_argument(
        "--allow-quarantine",
        dest="max_quarantine_share",
        type=float,
        default=None,
        metavar="SHARE",
        help=f"exit 1 when more than this share of rows is quarantined, as train refuses such a log {train_default('max_quarantine_share')}",
    )
    p.set_defaults(func=_validate)
