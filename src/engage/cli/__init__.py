"""``engage``: the one console command. Each subcommand is a thin call into a library function.

    engage simulate      write a simulated campaign log (with its world's settings)
    engage validate      check a log against its spec; quarantine bad rows
    engage train         learn, evaluate, track, register and promote a policy
    engage serve         run the recommendation API
    engage export-model  write a registered model as a self-contained directory
    engage recommend     answers for a profile or a file of profiles, with the champion

(and the other command modules of this package). Every parser is an :class:`EngageParser`:
each option's help shows its default, and each command's help ends with :func:`examples`.

A command with more than a few lines of wiring lives in its own module of this package
(``engage.cli.<command>``) with a ``register(subparsers)`` function that ``build_parser`` calls.
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from engage import __version__
from engage.contract.redaction import redact
from engage.contract.spec import SpecError

if TYPE_CHECKING:
    from engage.contract.validation import ValidationReport


def _simulate(args: argparse.Namespace) -> int:
    from engage.contract.messages import counted
    from engage.simulation.families import make_world
    from engage.simulation.world import write_log

    world = make_world(args.family, args.difficulty, args.decisions)
    log = world.simulate(args.rows, seed=args.seed, with_truth=args.with_truth)
    # classic logs keep the settings they always had (no family key means classic)
    family = {} if args.family == "classic" else {"family": args.family}
    write_log(
        log,
        args.out,
        world={
            **family,
            "difficulty": args.difficulty,
            "decisions": args.decisions,
            "seed": args.seed,
            "rows": args.rows,
        },
    )
    print(
        f"wrote {counted(len(log), 'campaign')} to {args.out} (family={args.family}, difficulty={args.difficulty}, decisions={args.decisions}, seed={args.seed})"
    )
    return 0


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


def _serve(args: argparse.Namespace) -> int:
    from engage.serving.server import run

    run(host=args.host, port=args.port, model_uri=args.model_uri or _spec_model_uri(args.spec))
    return 0


def _spec_model_uri(spec: str | None) -> str | None:
    """``models:/engage-<spec name>@champion`` for ``--spec`` (None when not given)."""
    from engage.contract.spec import load_spec, tracking_name

    return None if spec is None else f"models:/{tracking_name(load_spec(spec).name)}@champion"


def _export(args: argparse.Namespace) -> int:
    from engage.serving.settings import DEFAULT_MODEL_URI
    from engage.training.export import export_model

    model_uri = args.model_uri or _spec_model_uri(args.spec) or DEFAULT_MODEL_URI
    out = export_model(model_uri, args.out)
    print(f"exported {model_uri} to {out}; serve it with: engage serve --model-uri {out}")
    return 0


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Help as written (examples keep their lines), each option's default shown.

    An option whose default is a real value gets ``(default: VALUE)`` appended; one whose default
    is None (meaning "the setting's default") must say its effective default in its own help
    text, as ``(default: ...)``, since "None" would tell the reader nothing.
    """

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        # prose lines are wrapped; indented lines (examples) and headings are kept as written
        lines = []
        for line in text.splitlines():
            if line.startswith(" ") or line.endswith(":") or not line:
                lines.append(indent + line)
            else:
                lines.append(
                    textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent)
                )
        return "\n".join(lines)

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        if (
            "default" in text
            or action.default in (None, argparse.SUPPRESS)
            or not action.option_strings
        ):
            return text
        if action.required:
            return text
        default = (
            "off" if action.default is False else "on" if action.default is True else "%(default)s"
        )
        return f"{text} (default: {default})".strip()


class EngageParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` with :class:`HelpFormatter`: every subcommand's parser (those
    of the command modules too) shows defaults and keeps its examples' lines."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]


def examples(*lines: str) -> str:
    """An epilog of example command lines (one to three), as every command's help ends."""
    return "examples:\n" + "\n".join(f"  {line}" for line in lines)


def _train_default(name: str) -> str:
    """``(default: VALUE, or ENGAGE_TRAIN_NAME)``: the effective default of a training setting."""
    from engage.training.settings import ENV_PREFIX, TrainSettings

    value = TrainSettings.model_fields[name].default
    shown = (
        "off"
        if value is False
        else "on"
        if value is True
        else f"{value:,}"
        if isinstance(value, int)
        else value
    )
    return f"(default: {shown}, or {ENV_PREFIX}{name.upper()})"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``engage`` (exposed for tests and docs)."""
    parser = EngageParser(
        prog="engage",
        description="Which engagement style and posting mix pays off for which business.",
        epilog=examples(
            "engage simulate --rows 20000 --out data/campaigns.parquet",
            "engage train --data data/campaigns.parquet",
            "engage serve",
        ),
    )
    parser.add_argument("--version", action="version", version=f"engage {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=EngageParser)
    _add_simulate(sub)
    _add_validate(sub)
    _add_train(sub)
    _add_serve(sub)
    _add_export(sub)
    for register in _command_modules():
        register(sub)
    return parser


def _add_simulate(sub: argparse._SubParsersAction) -> None:
    """``engage simulate``."""
    from engage.simulation.families import FAMILIES, FAMILY_DIFFICULTIES
    from engage.simulation.world import DECISION_MODES, DIFFICULTIES

    p = sub.add_parser(
        "simulate",
        help="write a simulated campaign log",
        description="Write a simulated campaign log (Parquet keeps the world's settings, so training can report true regret).",
        epilog=examples(
            "engage simulate --rows 20000 --seed 0 --out data/campaigns.parquet",
            "engage simulate --difficulty easy --decisions style --with-truth --out easy.csv",
            "engage simulate --family edge --difficulty hard --out edge.parquet",
        ),
    )
    p.add_argument("--rows", type=int, default=20_000, help="campaigns to simulate")
    p.add_argument("--seed", type=int, default=0, help="random seed of the simulation")
    p.add_argument(
        "--family",
        choices=FAMILIES,
        default="classic",
        help="family of worlds: 'edge' has other functional forms, noise and confounding, and optima at the edge of the logged support (difficulties: "
        + "; ".join(f"{f}: {', '.join(d)}" for f, d in FAMILY_DIFFICULTIES.items())
        + ")",
    )
    p.add_argument(
        "--difficulty",
        choices=DIFFICULTIES,
        default="hard",
        help="how hard the world's best policy is to learn",
    )
    p.add_argument(
        "--decisions",
        choices=DECISION_MODES,
        default="full",
        help="'style': mix and cadence fixed per style",
    )
    p.add_argument(
        "--with-truth",
        action="store_true",
        help="also write the oracle's expected outcomes (true_* columns)",
    )
    p.add_argument("--out", required=True, help="file to write, .parquet or .csv (required)")
    p.set_defaults(func=_simulate)


def _add_validate(sub: argparse._SubParsersAction) -> None:
    """``engage validate``."""
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
        help=f"exit 1 when more than this share of rows is quarantined, as train refuses such a log {_train_default('max_quarantine_share')}",
    )
    p.set_defaults(func=_validate)


def _add_train(sub: argparse._SubParsersAction) -> None:
    """``engage train``: one flag per public training setting."""
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
        help=f"Optuna trials, 0 for default parameters {_train_default('trials')}",
    )
    p.add_argument(
        "--seed",
        type=int,
        default=None,
        help=f"seed of every split, subsample and fit {_train_default('seed')}",
    )
    p.add_argument(
        "--min-propensity",
        dest="min_propensity",
        type=float,
        default=None,
        help=f"never recommend a style below this estimated propensity {_train_default('min_propensity')}",
    )
    p.add_argument(
        "--pessimism",
        type=float,
        default=None,
        help=f"discount for thinly supported styles, 0 disables {_train_default('pessimism')}",
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
        help=f"move the champion alias even if not better {_train_default('force')}",
    )
    _add_train_guards(p)
    p.set_defaults(func=_train)


def _add_train_guards(p: argparse.ArgumentParser) -> None:
    """The input limit, progress and Dask flags of ``engage train``."""
    p.add_argument(
        "--max-rows",
        dest="max_input_rows",
        type=int,
        default=None,
        metavar="ROWS",
        help=f"refuse a log with more data rows {_train_default('max_input_rows')}",
    )
    p.add_argument(
        "--max-bytes",
        dest="max_input_bytes",
        type=int,
        default=None,
        metavar="BYTES",
        help=f"refuse a larger log file, in bytes {_train_default('max_input_bytes')}",
    )
    p.add_argument(
        "--allow-quarantine",
        dest="max_quarantine_share",
        type=float,
        default=None,
        metavar="SHARE",
        help=f"train even if up to this share of rows was quarantined {_train_default('max_quarantine_share')}",
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


def _add_serve(sub: argparse._SubParsersAction) -> None:
    """``engage serve``."""
    from engage.serving.settings import DEFAULT_MODEL_URI, ServeSettings

    serve = ServeSettings.model_fields
    p = sub.add_parser(
        "serve",
        help="run the recommendation API",
        description="Run the recommendation API (FastAPI) on a spec's champion model or an exported model. "
        "Settings are ENGAGE_SERVE_* variables; flags win.",
        epilog=examples(
            "engage serve",
            "engage serve --spec examples/facebook_metrics.yaml --port 8080",
            "engage serve --model-uri exported/ --host 0.0.0.0",
        ),
    )
    p.add_argument(
        "--host",
        default=None,
        help=f"interface to bind (default: {serve['host'].default}, or ENGAGE_SERVE_HOST)",
    )
    p.add_argument(
        "--port",
        type=int,
        default=None,
        help=f"TCP port (default: {serve['port'].default}, or ENGAGE_SERVE_PORT)",
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--model-uri",
        dest="model_uri",
        default=None,
        help=f"models:/NAME@ALIAS or an exported directory (default: ENGAGE_SERVE_MODEL_URI, else {DEFAULT_MODEL_URI})",
    )
    which.add_argument(
        "--spec",
        default=None,
        help="serve the champion of this spec's model, models:/engage-<spec name>@champion (default: not used)",
    )
    p.set_defaults(func=_serve)


def _add_export(sub: argparse._SubParsersAction) -> None:
    """``engage export-model``."""
    from engage.serving.settings import DEFAULT_MODEL_URI

    p = sub.add_parser(
        "export-model",
        help="write a model as a self-contained directory",
        description="Write a registered model as a self-contained directory (for containers).",
        epilog=examples(
            "engage export-model --out exported/",
            "engage export-model --spec examples/facebook_metrics.yaml --out facebook-model/",
            "engage export-model --model-uri models:/engage-simulated_world/3 --out v3/",
        ),
    )
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--model-uri",
        dest="model_uri",
        default=None,
        help=f"models:/NAME@ALIAS or models:/NAME/VERSION (default: {DEFAULT_MODEL_URI})",
    )
    which.add_argument(
        "--spec", default=None, help="export the champion of this spec's model (default: not used)"
    )
    p.add_argument("--out", required=True, help="directory to write (required)")
    p.set_defaults(func=_export)


def _command_modules() -> list:
    """``register`` of each command module of this package (``engage.cli.<command>``)."""
    import importlib
    import pkgutil

    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if info.name.startswith("_"):  # __main__ (python -m engage.cli) and private helpers
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if hasattr(module, "register"):
            found.append(module.register)
    return found


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``engage`` console script."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except SpecError as exc:
        print(f"error: {redact(exc)}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError, RuntimeError) as exc:
        from engage.contract.validation import LogValidationError

        if isinstance(exc, LogValidationError):
            print(exc.report.summary(), file=sys.stderr)
            print("error: the log is not valid; nothing was trained or registered", file=sys.stderr)
            return 1
        print(f"error: {redact(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # a run registers only after it has finished, so an interrupted run never moves the
        # alias; only an interrupt during the last second can leave a complete, unpromoted version
        print("interrupted; the champion alias was not moved", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - an unexpected error: its traceback, redacted
        import traceback

        # MLflow and database drivers put URIs (and their passwords) in their messages
        print(redact("".join(traceback.format_exception(exc))).rstrip(), file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
