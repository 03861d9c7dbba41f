"""The profiles of ``engage recommend``: ``--profile`` JSON (or ``@FILE``) or an ``--input``
file, pre-scanned and bounded before it is parsed (``engage recommend-batch`` is for large
inputs)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

#: Row numbers named per problem.
SHOWN_ROWS = 5
INPUT_FORMATS = (".json", ".jsonl", ".csv", ".parquet")
#: Largest --input (or --profile @FILE) file, in bytes (on disk; a Parquet file also decoded);
#: --max-bytes raises it. ``engage recommend-batch`` is for large inputs.
MAX_INPUT_BYTES = 32 << 20
#: Most profiles of one --input: every profile is held as a dict until answered.
MAX_PROFILES = 100_000
#: Most cells (profiles x columns) of one --input, for the same reason (~300 bytes each).
MAX_CELLS = 2_000_000


class BadInput(Exception):
    """The profiles, the objective or the output path cannot be used (exit code 2)."""


def read_profiles(
    profile: str | None, input_file: str | None, max_bytes: int = MAX_INPUT_BYTES
) -> tuple[list[dict[str, Any]], bool]:
    """The profiles given, and whether a single JSON object was given (one answer, not a list).

    A file is pre-scanned before it is parsed (:mod:`engage.contract.prescan`): more than
    ``max_bytes``, NUL bytes, a line or field too long, too many columns, more than
    :data:`MAX_PROFILES` profiles or :data:`MAX_CELLS` cells are refused.

    Raises:
        BadInput: the JSON or the file cannot be read, breaks a limit, or holds no profile.
    """
    if profile is not None:
        if profile.startswith("@"):
            path = Path(profile[1:])
            _scan(path, None, max_bytes, lines=False)
            profile = _read_text(path)
            _check_count(path, profile.count("{"), 1)
        parsed = _json(profile, "--profile")
        return _as_profiles(parsed, "--profile"), isinstance(parsed, dict)
    assert input_file is not None
    path = Path(input_file)
    suffix = path.suffix.lower()
    if suffix not in INPUT_FORMATS:
        raise BadInput(
            f"--input {path}: unsupported file type {suffix or '(none)'!r}; use one of {', '.join(INPUT_FORMATS)}"
        )
    scanned = _scan(
        path,
        "," if suffix == ".csv" else None,
        max_bytes,
        lines=suffix != ".json",
        parquet=suffix == ".parquet",
    )
    if suffix == ".json":
        text = _read_text(path)
        # every profile is an object: more "{" than profiles allowed is refused before
        # json.loads builds them (~25 times the text's size for tiny objects)
        _check_count(path, text.count("{"), 1)
        profiles = _as_profiles(_json(text, str(path)), str(path))
        _check_count(path, len(profiles), max((len(p) for p in profiles), default=0))
        return profiles, False
    if suffix == ".jsonl":
        _check_count(path, scanned.records, 1)
        lines = [
            (i, line) for i, line in enumerate(_read_text(path).splitlines(), 1) if line.strip()
        ]
        return _as_profiles(
            [_json(line, f"{path} line {i}") for i, line in lines], str(path)
        ), False
    _check_count(path, scanned.records - (suffix == ".csv"), scanned.columns)
    return _table_profiles(path), False


def _scan(
    path: Path, sep: str | None, max_bytes: int, *, lines: bool, parquet: bool = False
) -> Any:
    """The pre-scan of an input file, its refusal a :class:`BadInput`."""
    from engage.contract.limits import InputLimitError, InputLimits
    from engage.contract.parquet_scan import scan_parquet
    from engage.contract.prescan import scan_text

    if not path.is_file():
        raise BadInput(f"cannot read {path}: no such file")
    limits = InputLimits(max_bytes=max_bytes, names={"max_bytes": "--max-bytes"})
    try:
        if parquet:
            return scan_parquet(path, limits, what="--input")
        return scan_text(path, sep, limits, "--input", lines=lines)
    except InputLimitError as exc:
        raise BadInput(str(exc)) from None
    except ValueError as exc:
        raise BadInput(f"cannot read {path}: {exc}") from None


def _check_count(path: Path, profiles: int, columns: int) -> None:
    if profiles > MAX_PROFILES:
        raise BadInput(
            f"--input {path}: {profiles:,} profiles, more than {MAX_PROFILES:,} (the limit of "
            "engage recommend); use engage recommend-batch for large inputs"
        )
    if profiles * max(columns, 1) > MAX_CELLS:
        raise BadInput(
            f"--input {path}: {profiles:,} profiles of {columns:,} columns, more than "
            f"{MAX_CELLS:,} cells (the limit of engage recommend); use engage recommend-batch "
            "for large inputs"
        )


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read {path}: {exc.__class__.__name__}: {exc}") from exc


def _json(text: str, where: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{where} is not valid JSON ({exc})") from exc


def json_object(text: str, where: str) -> dict[str, Any]:
    parsed = _json(text, where)
    if not isinstance(parsed, dict):
        raise BadInput(f"{where} must be a JSON object, got {type(parsed).__name__}")
    return parsed


def _as_profiles(parsed: Any, where: str) -> list[dict[str, Any]]:
    items = [parsed] if isinstance(parsed, dict) else parsed
    if not isinstance(items, list):
        raise BadInput(
            f"{where} must hold a JSON object or a list of objects, got {type(parsed).__name__}"
        )
    not_objects = [i for i, item in enumerate(items, 1) if not isinstance(item, dict)]
    if not_objects:
        raise BadInput(
            f"{where}: {len(not_objects):,} profile(s) are not JSON objects (profile {row_numbers(not_objects)})"
        )
    if not items:
        raise BadInput(f"{where} holds no profile")
    return items


def is_table(input_file: str | None) -> bool:
    """Whether ``--input`` is a table (CSV, Parquet), whose numeric cells may be read as text."""
    return input_file is not None and Path(input_file).suffix.lower() in (".csv", ".parquet")


def _table_profiles(path: Path) -> list[dict[str, Any]]:
    import pandas as pd

    try:
        frame = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # noqa: BLE001 - pandas and pyarrow raise many kinds
        raise BadInput(f"cannot read {path}: {exc.__class__.__name__}: {exc}") from exc
    if frame.empty:
        raise BadInput(f"{path} holds no profile (no data rows)")
    # plain Python values (a missing cell is None, refused by the contract like a JSON null)
    return frame.astype(object).where(frame.notna(), None).to_dict("records")


def row_numbers(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:SHOWN_ROWS])
    return shown + (f" and {len(numbers) - SHOWN_ROWS:,} more" if len(numbers) > SHOWN_ROWS else "")
