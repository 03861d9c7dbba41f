"""``engage serve`` (run the recommendation API) and ``engage export-model`` (a registered
model as a self-contained directory to serve)."""

from __future__ import annotations

import argparse


def _serve(args: argparse.Namespace) -> int:
    from engage.cli import spec_model_uri
    from engage.serving.server import run

    run(host=args.host, port=args.port, model_uri=args.model_uri or spec_model_uri(args.spec))
    return 0


def _export(args: argparse.Namespace) -> int:
    from engage.cli import spec_model_uri
    from engage.serving.settings import DEFAULT_MODEL_URI
    from engage.training.export import export_model

    model_uri = args.model_uri or spec_model_uri(args.spec) or DEFAULT_MODEL_URI
    out = export_model(model_uri, args.out)
    print(f"exported {model_uri} to {out}; serve it with: engage serve --model-uri {out}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``engage serve`` and ``engage export-model`` to the ``engage`` parser."""
    _add_serve(sub)
    _add_export(sub)


def _add_serve(sub: argparse._SubParsersAction) -> None:
    """``engage serve``."""
    from engage.cli import add_model_choice, examples
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
    add_model_choice(
        p,
        f"models:/NAME@ALIAS or an exported directory (default: ENGAGE_SERVE_MODEL_URI, else {DEFAULT_MODEL_URI})",
        "serve the champion of this spec's model, models:/engage-<spec name>@champion (default: not used)",
    )
    p.set_defaults(func=_serve)


def _add_export(sub: argparse._SubParsersAction) -> None:
    """``engage export-model``."""
    from engage.cli import add_model_choice, examples
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
    add_model_choice(
        p,
        f"models:/NAME@ALIAS or models:/NAME/VERSION (default: {DEFAULT_MODEL_URI})",
        "export the champion of this spec's model (default: not used)",
    )
    p.add_argument("--out", required=True, help="directory to write (required)")
    p.set_defaults(func=_export)
