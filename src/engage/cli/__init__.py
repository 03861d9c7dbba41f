"""``engage``: the one console command. Each subcommand is a thin call into a library function.

    engage simulate      write a simulated campaign log (with its world's settings)
    engage validate      check a log against its spec; quarantine bad rows
    engage train         learn, evaluate, track, register and promote a policy
    engage serve         run the recommendation API
    engage export-model  write a registered model as a self-contained directory

A command with more than a few lines of wiring lives in its own module of this package
(``engage.cli.<command>``) with a ``register(subparsers)`` function that ``build_parser`` calls.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engage import __version__
from engage.contract.redaction import redact
from engage.contract.spec import SpecError


def _simulate(args: argparse.Namespace) -> int:
    from engage.simulation.world import SimulatedWorld, write_log

    world = SimulatedWorld(args.difficulty, args.decisions)
    log = world.simulate(args.rows, seed=args.seed, with_truth=args.with_truth)
    write_log(log, args.out, world={"difficulty": args.difficulty, "decisions": args.decisions, "seed": args.seed, "rows": args.rows})
    print(f"wrote {len(log):,} campaigns to {args.out} (difficulty={args.difficulty}, decisions={args.decisions}, seed={args.seed})")
    return 0


def _validate(args: argparse.Namespace) -> int:
    from engage.contract.spec import load_spec
    from engage.contract.validation import InputLimits, validate_file

    data = Path(args.data)
    quarantine = Path(args.quarantine) if args.quarantine else data.with_name(data.stem + ".quarantine.csv")
    limits = InputLimits(max_rows=args.max_rows, max_bytes=args.max_bytes, names={"max_rows": "--max-rows", "max_bytes": "--max-bytes"})
    report = validate_file(data, load_spec(args.spec), quarantine_path=quarantine, limits=limits)
    print(report.summary())
    if len(report.quarantine):
        print(f"quarantined rows written to {quarantine}")
    return 1 if report.fatal else 0


def _train(args: argparse.Namespace) -> int:
    from engage.simulation.oracle import oracle_for_log
    from engage.training.pipeline import train
    from engage.training.settings import settings_from_flags
    from engage.training.summary import print_summary

    settings = settings_from_flags(vars(args))
    # the composition root: a simulated log's world (if any) becomes training's oracle
    print_summary(train(settings, oracle=oracle_for_log(settings.data, settings.spec)))
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``engage`` (exposed for tests and docs)."""
    from engage.contract.limits import InputLimits
    from engage.simulation.world import DECISION_MODES, DIFFICULTIES

    parser = argparse.ArgumentParser(prog="engage", description="Which engagement style and posting mix pays off for which business.")
    parser.add_argument("--version", action="version", version=f"engage {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("simulate", help="write a simulated campaign log")
    p.add_argument("--rows", type=int, default=20_000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--difficulty", choices=DIFFICULTIES, default="hard")
    p.add_argument("--decisions", choices=DECISION_MODES, default="full", help="'style': mix and cadence fixed per style")
    p.add_argument("--with-truth", action="store_true", help="also write the oracle's expected outcomes (true_* columns)")
    p.add_argument("--out", required=True, help=".parquet or .csv")
    p.set_defaults(func=_simulate)

    p = sub.add_parser("validate", help="check a log against its spec")
    p.add_argument("--data", required=True)
    p.add_argument("--spec", default=None, help="spec YAML (default: the simulated world's)")
    p.add_argument("--quarantine", default=None, help="where to write quarantined rows (default: <data>.quarantine.csv)")
    p.add_argument("--max-rows", dest="max_rows", type=int, default=InputLimits.max_rows, help=f"refuse a log with more data rows (default {InputLimits.max_rows:,})")
    p.add_argument("--max-bytes", dest="max_bytes", type=int, default=InputLimits.max_bytes, help=f"refuse a larger file (default {InputLimits.max_bytes:,})")
    p.set_defaults(func=_validate)

    p = sub.add_parser("train", help="learn, evaluate, track and register a policy")
    p.add_argument("--data", required=True)
    p.add_argument("--spec", default=None)
    p.add_argument("--experiment", default=None, help="MLflow experiment (default: engage-<spec name>)")
    p.add_argument("--model-name", dest="model_name", default=None, help="registered model (default: engage-<spec name>)")
    p.add_argument("--trials", type=int, default=None, help="Optuna trials (default 5)")
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--min-propensity", dest="min_propensity", type=float, default=None, help="never recommend a style below this estimated propensity (default 0.005)")
    p.add_argument("--pessimism", type=float, default=None, help="discount for thinly supported styles (default 1.5; 0 disables)")
    p.add_argument("--objective", default=None, help='JSON weights, e.g. \'{"conversions": 1, "retention_30d": 0.2}\'')
    p.add_argument("--force", action="store_true", default=None, help="move the champion alias even if not better")
    p.add_argument("--allow-quarantine", dest="max_quarantine_share", type=float, default=None, metavar="SHARE", help="train even if up to this share of rows was quarantined (default 0.05)")
    p.add_argument("--no-progress", dest="progress", action="store_false", default=None)
    p.set_defaults(func=_train)

    p = sub.add_parser("serve", help="run the recommendation API")
    p.add_argument("--host", default=None)
    p.add_argument("--port", type=int, default=None)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model-uri", dest="model_uri", default=None, help="models:/NAME@ALIAS or an exported directory (default: ENGAGE_SERVE_MODEL_URI, else models:/engage-simulated_world@champion)")
    which.add_argument("--spec", default=None, help="serve the champion of this spec's model, models:/engage-<spec name>@champion")
    p.set_defaults(func=_serve)

    p = sub.add_parser("export-model", help="write a model as a self-contained directory")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--model-uri", dest="model_uri", default=None, help="default: models:/engage-simulated_world@champion")
    which.add_argument("--spec", default=None, help="export the champion of this spec's model")
    p.add_argument("--out", required=True)
    p.set_defaults(func=_export)
    for register in _command_modules():
        register(sub)
    return parser


def _command_modules() -> list:
    """``register`` of each command module of this package (``engage.cli.<command>``)."""
    import importlib
    import pkgutil

    found = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
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


if __name__ == "__main__":
    raise SystemExit(main())
