"""``engage``: the one console command. Each subcommand is a thin call into a library function.

    engage simulate      write a simulated campaign log (with its world's settings)
    engage validate      check a log against its spec; quarantine bad rows
    engage train         learn, evaluate, track, register and promote a policy
    engage serve         run the recommendation API
    engage export-model  write a registered model as a self-contained directory
    engage recommend     answers for a profile or a file of profiles, with the champion

(and the other command modules of this package). Every parser is an :class:`EngageParser`:
each option's help shows its default, and each command's help ends with :func:`examples`.

Each command lives in its own module of this package (``engage.cli.<command>``) with a
``register(subparsers)`` function that ``build_parser`` calls.
"""

from __future__ import annotations

import argparse
import sys

from engage import __version__
from engage.cli._parsing import (
    EngageParser,
    HelpFormatter,
    add_model_choice,
    examples,
    train_default,
)
from engage.contract.redaction import redact
from engage.contract.spec import SpecError

__all__ = [
    "EngageParser",
    "HelpFormatter",
    "add_model_choice",
    "build_parser",
    "examples",
    "main",
    "train_default",
]

#: the first commands of ``engage --help``, in the order a newcomer uses them (the other
#: command modules follow, by name)
FIRST = ("simulate", "validate", "train", "serve")


def spec_model_uri(spec: str | None) -> str | None:
    """``models:/engage-<spec name>@champion`` for ``--spec`` (None when not given)."""
    from engage.contract.spec import load_spec, tracking_name

    return None if spec is None else f"models:/{tracking_name(load_spec(spec).name)}@champion"


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
    for register in _command_modules():
        register(sub)
    return parser


def _command_modules() -> list:
    """``register`` of each command module of this package (``engage.cli.<command>``)."""
    import importlib
    import pkgutil

    names = sorted(
        (i.name for i in pkgutil.iter_modules(__path__)),
        key=lambda name: (FIRST.index(name) if name in FIRST else len(FIRST), name),
    )
    found = []
    for name in names:
        if name.startswith("_"):  # __main__ (python -m engage.cli) and private helpers
            continue
        module = importlib.import_module(f"{__name__}.{name}")
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
