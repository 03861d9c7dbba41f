"""``engage recommend``: the champion's answers for one profile or a file of them, without a server.

The model is loaded exactly as ``engage serve`` loads it (:class:`engage.serving.model.ModelLoader`:
a registered version only if its training run finished, or an exported directory), and each
profile is checked by the served spec's request contract (:class:`engage.serving.contract.SpecContract`),
so a profile the API would refuse is refused here, with the same messages, grouped per column
with the number of profiles concerned.

Exit codes: 0 answered; 2 bad input (unreadable file, a profile or objective the spec refuses);
1 no model (nothing registered under the URI, no store, a version of an unfinished run).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

from engage.cli.recommend_input import (
    MAX_INPUT_BYTES,
    BadInput,
    is_table,
    json_object,
    read_profiles,
    row_numbers,
)

#: Profiles scored per policy call (bounds the memory of a large input file).
CHUNK = 1_000
#: Problems listed before the rest are only counted.
SHOWN_PROBLEMS = 20
OUTPUT_FORMATS = (".json", ".jsonl")
#: Significant digits of a number printed on a terminal (read by a person); a pipe and the
#: --output files get every digit, the API's answer as it is.
PRINTED_DIGITS = 4
NO_MODEL_HINT = (
    "train one first (`engage train --data LOG [--spec SPEC]`), or name another with "
    "--spec or --model-uri"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``engage recommend`` to the ``engage`` parser."""
    from engage.cli import add_model_choice, examples
    from engage.serving.settings import DEFAULT_MODEL_URI, MAX_TOP_K

    p = subparsers.add_parser(
        "recommend",
        help="recommend for a profile or a file of profiles with the champion model",
        description=(
            "Recommend, with the champion model, for one profile (--profile) or a file of "
            "profiles (--input), each checked against the model's spec as the API checks it. "
            "Answers are JSON on stdout, or written to --output. Exit code 2: bad input; "
            "1: no model."
        ),
        epilog=examples(
            'engage recommend --profile "$(jq .profile examples/recommendation_request.json)"',
            "engage recommend --spec examples/facebook_metrics.yaml --profile @post.json --top-k 2",
            "engage recommend --input profiles.csv --output answers.jsonl --top-k 1 --no-explain",
        ),
    )
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--profile",
        help="one profile as a JSON object (or a JSON list of them); @FILE reads the JSON from "
        "a file; this or --input is required",
    )
    source.add_argument(
        "--input",
        help="a file of profiles: .json (an object or a list), .jsonl (one object a line), "
        ".csv or .parquet (one profile a row); this or --profile is required",
    )
    p.add_argument(
        "--max-bytes",
        dest="max_bytes",
        type=int,
        default=MAX_INPUT_BYTES,
        help=f"refuse a larger --input or @FILE, in bytes (default: {MAX_INPUT_BYTES:,}; "
        "use engage recommend-batch for large inputs)",
    )
    p.add_argument(
        "--output",
        default=None,
        help="write the answers to this file: .jsonl (one answer a line) or .json "
        "(default: printed to stdout)",
    )
    add_model_choice(
        p,
        f"models:/NAME@ALIAS, models:/NAME/VERSION or an exported directory (default: {DEFAULT_MODEL_URI})",
        "use the champion of this spec's model, models:/engage-<spec name>@champion "
        "(default: not used)",
    )
    p.add_argument(
        "--top-k",
        dest="top_k",
        type=_top_k(MAX_TOP_K),
        default=3,
        help=f"recommendations per profile, 1 to {MAX_TOP_K}",
    )
    p.add_argument(
        "--objective",
        default=None,
        help="JSON outcome weights replacing the model's, e.g. '{\"conversions\": 1}' "
        "(default: the weights the model was trained with)",
    )
    p.add_argument(
        "--no-explain",
        dest="explain",
        action="store_false",
        help="leave out the explanation of the first choice (default: explained)",
    )
    p.set_defaults(func=run)


def _top_k(most: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if not 1 <= value <= most:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from 1 to {most}, got {text!r}"
            )
        return value

    return parse


def run(args: argparse.Namespace) -> int:
    """Answer the profiles of ``args``; the exit code (0, 1 no model, 2 bad input)."""
    from engage.contract.messages import counted
    from engage.contract.redaction import redact

    try:
        profiles, single = read_profiles(
            args.profile, args.input, getattr(args, "max_bytes", MAX_INPUT_BYTES)
        )
        objective = json_object(args.objective, "--objective") if args.objective else None
        output = _output_path(args.output)
    except BadInput as exc:
        print(f"error: {redact(exc)}", file=sys.stderr)
        return 2
    try:
        model = load_model(args.model_uri, args.spec)
    except Exception as exc:  # noqa: BLE001 - every load failure means "no model" here
        print(f"error: no model: {redact(exc)}", file=sys.stderr)
        print(NO_MODEL_HINT, file=sys.stderr)
        return 1
    try:
        answers = recommend(
            model,
            profiles,
            top_k=args.top_k,
            objective=objective,
            explain=args.explain,
            from_table=is_table(args.input),
        )
    except BadInput as exc:
        print(f"error: {redact(exc)}", file=sys.stderr)
        return 2
    write_answers(answers, output, single=single)
    where = f"written to {output}" if output else "printed"
    label = f"{model.name} version {model.version}" if model.version else redact(model.uri)
    n = len(answers)
    print(f"{counted(n, 'answer')} from {label} {where}", file=sys.stderr)
    return 0


def _output_path(output: str | None) -> Path | None:
    if output is None:
        return None
    path = Path(output)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise BadInput(f"--output {path}: use a .jsonl or .json file name")
    if not path.parent.is_dir():
        raise BadInput(f"--output {path}: the folder {path.parent} does not exist")
    return path


def load_model(model_uri: str | None, spec: str | None) -> Any:
    """The :class:`~engage.serving.model.LoadedModel` behind ``--model-uri``/``--spec`` (default:
    the default spec's champion), loaded as ``engage serve`` loads it."""
    from engage.cli import spec_model_uri
    from engage.registry import bounded_mlflow_http, default_tracking_uri
    from engage.serving.model import ModelLoader
    from engage.serving.settings import DEFAULT_MODEL_URI

    uri = model_uri or spec_model_uri(spec) or DEFAULT_MODEL_URI
    with bounded_mlflow_http():  # an unreachable tracking server fails in seconds, not minutes
        return ModelLoader(default_tracking_uri()).load(uri)


def recommend(
    model: Any,
    profiles: list[dict[str, Any]],
    *,
    top_k: int = 3,
    objective: dict[str, Any] | None = None,
    explain: bool = True,
    from_table: bool = False,
) -> list[dict[str, Any]]:
    """The answers (``Answer.to_dict()``) for ``profiles`` checked by the model's contract.

    ``from_table``: the profiles are rows of a CSV or Parquet file, whose numeric cells may
    have been read as text; each is read as a number on its own
    (:meth:`~engage.serving.contract.SpecContract.profile_row`).

    Raises:
        BadInput: some profiles or the objective do not fit the spec (every problem grouped
            by column, with how many profiles and which).
    """
    from pydantic import ValidationError

    from engage.serving.errors import validation_details

    contract = model.contract
    problems: dict[tuple[str, str], list[int]] = defaultdict(list)
    rows = []
    for i, raw in enumerate(profiles, 1):
        try:
            rows.append(contract.profile_row(raw, from_table=from_table))
        except ValidationError as exc:
            for d in validation_details(exc.errors(include_url=False, include_input=False)):
                problems[(str(d["field"]), str(d["message"]))].append(i)
    weights = None
    if objective is not None:
        try:
            weights = contract.objective(objective)
        except ValidationError as exc:
            for d in validation_details(
                exc.errors(include_url=False, include_input=False), "objective"
            ):
                problems[(str(d["field"]), str(d["message"]))].append(0)
    if problems:
        raise BadInput(_problem_text(problems, len(profiles)))
    policy = model.policy
    answers = []
    for start in range(0, len(rows), CHUNK):
        chunk = policy.builder.encode_rows(rows[start : start + CHUNK])
        found = policy.recommend_context(chunk, top_k=top_k, objective=weights, explain=explain)
        answers += [a.to_dict() for a in found]
    return answers


def _problem_text(problems: dict[tuple[str, str], list[int]], n_profiles: int) -> str:
    """Every problem as a line: the column, how many profiles (which ones), the message."""
    from engage.contract.messages import counted, shown_names

    bad = len({i for rows in problems.values() for i in rows if i})
    fit = "does not fit" if bad == 1 else "do not fit"
    head = f"{bad:,} of {counted(n_profiles, 'profile')} {fit} the model's spec"
    if bad == 0:
        head = "the objective does not fit the model's spec"
    ordered = sorted(problems.items(), key=lambda item: (-len(item[1]), item[0]))
    lines = [head + "; nothing was recommended:"]
    for (column, message), rows in ordered[:SHOWN_PROBLEMS]:
        if rows == [0]:
            lines.append(f"  {column}: {message}")
            continue
        count = counted(len(rows), "profile")
        lines.append(
            f"  column {shown_names([column])}: {count} (profile {row_numbers(rows)}): {message}"
        )
    if len(ordered) > SHOWN_PROBLEMS:
        lines.append(f"  and {len(ordered) - SHOWN_PROBLEMS:,} more kinds of problem")
    return "\n".join(lines)


def write_answers(answers: list[dict[str, Any]], output: Path | None, *, single: bool) -> None:
    """Answers as JSON: one object for a single profile, else a list (JSON Lines in a .jsonl);
    on a terminal with numbers rounded to :data:`PRINTED_DIGITS` significant digits."""
    if output is not None and output.suffix.lower() == ".jsonl":
        output.write_text(
            "".join(json.dumps(a, ensure_ascii=False) + "\n" for a in answers), encoding="utf-8"
        )
        return
    answer = answers[0] if single else answers
    if output is None and sys.stdout.isatty():  # a person reads it: 9.677, not 9.676614658158048
        answer = readable(answer)
    text = json.dumps(answer, indent=2, ensure_ascii=False) + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")


def readable(value: Any, digits: int = PRINTED_DIGITS) -> Any:
    """``value`` with every float rounded to ``digits`` significant digits, but never into its
    integer part (``13629.43`` stays ``13629.0``); other values as they are."""
    if isinstance(value, dict):
        return {k: readable(v, digits) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v, digits) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value != 0:
        return round(value, max(0, digits - 1 - math.floor(math.log10(abs(value)))))
    return value
