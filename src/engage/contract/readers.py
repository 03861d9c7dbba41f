"""Reading a campaign log from disk: CSV (with the spec's separator) or Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engage.contract.spec import CampaignSpec

CSV_SUFFIXES = frozenset({".csv", ".txt"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
# pandas reads these transparently; the suffix before one says the format.
COMPRESSION_SUFFIXES = frozenset({".gz", ".bz2", ".zip", ".xz", ".zst"})


def read_log(path: str | Path, spec: CampaignSpec) -> pd.DataFrame:
    """Read a campaign log: ``.csv``/``.txt`` (``spec.read.sep``) or ``.parquet``/``.pq``.

    Types are inferred as usual and empty cells become NaN; coercion to the spec's types
    happens in :func:`~engage.contract.validation.validate_log`. A CSV with a header only
    (or a 0-byte file) gives an empty frame, which validation reports as fatal.

    Args:
        path: The log file; a compression suffix (``.gz``, ``.zip``, ...) may follow.
        spec: The contract; only its ``read`` options are used here.

    Returns:
        The raw frame.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: unknown extension, or the file cannot be parsed.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"campaign log not found: {path}")
    suffix = log_format(path)
    if suffix in CSV_SUFFIXES:
        return read_csv(path, spec.read.sep)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path)
    shown = "".join(path.suffixes) or "(no extension)"
    raise ValueError(
        f"unsupported campaign-log format {shown!r} for {path}: "
        "use .csv or .txt (read with the spec's read.sep) or .parquet / .pq"
    )


def log_format(path: Path) -> str:
    """The lower-case suffix that names the file's format, ignoring a compression suffix."""
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    return suffixes[-1] if suffixes else ""


def read_csv(path: Path, sep: str) -> pd.DataFrame:
    """Read a CSV log; a 0-byte file is an empty frame.

    Raises:
        ValueError: the file is not parseable CSV with ``sep`` or not text.
    """
    try:
        # low_memory=False: one dtype per column, not one per chunk of a large file.
        return pd.read_csv(path, sep=sep, low_memory=False)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"could not read {path} as CSV with separator {sep!r}: {exc}") from exc


def read_parquet(path: Path) -> pd.DataFrame:
    """Read a Parquet log.

    Raises:
        ValueError: the file is not Parquet.
    """
    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as exc:
        raise ValueError(f"could not read {path} as Parquet: {exc}") from exc
