"""``engage decisions export``: recorded decisions and outcomes as a campaign log with its spec."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime


def _moment(text: str) -> datetime:
    """An ISO 8601 date or time (naive = UTC) for --since/--until."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO 8601 date or time: {text!r} (e.g. 2026-11-01 or 2026-11-01T12:00)"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _export(args: argparse.Namespace) -> int:
    from engage.contract.spec import load_spec
    from engage.decisions.export import export_decisions
    from engage.decisions.settings import DecisionSettings
    from engage.decisions.store import open_store

    url = args.url or DecisionSettings().store_url()
    store = open_store(url)
    try:
        result = export_decisions(
            store,
            load_spec(args.spec),
            args.out,
            since=args.since,
            until=args.until,
            complete_only=args.complete_only,
            max_rows=args.max_rows,
        )
    finally:
        store.close()
    print(result.summary())
    print(
        f"validate or train on it as is: engage train --data {result.log} --spec {result.spec} "
        "(training values policies with these recorded propensities and logs ope_propensity=logged)"
    )
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``engage decisions`` and its ``export`` subcommand."""
    from engage.cli import examples
    from engage.contract.limits import InputLimits

    p = subparsers.add_parser(
        "decisions",
        help="export recorded decisions and outcomes",
        description="The decisions the service recorded (ENGAGE_DECISIONS_URL), with the outcomes posted back.",
        epilog=examples(
            "engage decisions export --out data/decisions.parquet",
            "engage decisions export --since 2026-11-01 --until 2026-12-01 --complete-only --out nov.parquet",
        ),
    )
    sub = p.add_subparsers(dest="decisions_command", required=True, parser_class=type(p))
    e = sub.add_parser(
        "export",
        help="write decisions and outcomes as a campaign log and its spec",
        description="Write the decisions made under a spec, joined with their outcomes, as a "
        "campaign log in that spec's format; the propensity column holds the probability each "
        "style was served with. The spec is written beside the log (F.spec.yaml).",
        epilog=examples(
            "engage decisions export --out data/decisions.parquet",
            "engage decisions export --since 2026-11-01 --complete-only --out nov.parquet",
            "engage decisions export --spec examples/facebook_metrics.yaml --out fb.parquet",
        ),
    )
    e.add_argument("--out", required=True, help="log to write, .parquet or .csv (required)")
    e.add_argument(
        "--since",
        type=_moment,
        default=None,
        help="first decision time, ISO 8601, UTC unless given (default: the first)",
    )
    e.add_argument(
        "--until",
        type=_moment,
        default=None,
        help="decisions before this time, ISO 8601 (default: now)",
    )
    e.add_argument(
        "--complete-only",
        dest="complete_only",
        action="store_true",
        help="leave out decisions still missing an outcome",
    )
    e.add_argument(
        "--spec",
        default=None,
        help="the spec the decisions were served under (default: the simulated world's)",
    )
    e.add_argument(
        "--max-rows",
        dest="max_rows",
        type=int,
        default=InputLimits.max_rows,
        help=f"refuse a window of more decisions (default: {InputLimits.max_rows:,})",
    )
    e.add_argument(
        "--url",
        default=None,
        help="SQLAlchemy URL of the decision store (default: ENGAGE_DECISIONS_URL, else sqlite ./engage-data/decisions.db)",
    )
    e.set_defaults(func=_export)
