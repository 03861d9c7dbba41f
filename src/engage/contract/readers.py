"""Reading a campaign log from disk: CSV (with the spec's separator) or Parquet."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from engage.contract.spec import CampaignSpec

CSV_SUFFIXES = frozenset({".csv", ".txt"})
PARQUET_SUFFIXES = frozenset({".parquet", ".pq"})
# pandas reads these transparently; the suffix before one says the format.
COMPRESSION_SUFFIXES = frozenset({".gz", ".bz2", ".zip", ".xz", ".zst"})


def read_log(path: str | Path, spec: CampaignSpec, nrows: int | None = None) -> pd.DataFrame:
    """Read a campaign log: ``.csv``/``.txt`` (``spec.read.sep``) or ``.parquet``/``.pq``.

    Types are inferred as usual and empty cells become NaN; coercion to the spec's types
    happens in :func:`~engage.contract.validation.validate_log`. A CSV with a header only
    (or a 0-byte file) gives an empty frame, which validation reports as fatal.

    Args:
        path: The log file; a compression suffix (``.gz``, ``.zip``, ...) may follow.
        spec: The contract; only its ``read`` options are used here.
        nrows: Read at most this many data rows (the first ones); all when None.

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
        return read_csv(path, spec.read.sep, nrows)
    if suffix in PARQUET_SUFFIXES:
        return read_parquet(path, nrows)
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


def is_typed_format(path: Path) -> bool:
    """Whether the file's format stores column types (Parquet), unlike CSV where every value
    is text until parsed."""
    return log_format(path) in PARQUET_SUFFIXES


def read_csv(path: Path, sep: str, nrows: int | None = None) -> pd.DataFrame:
    """Read a CSV log (its first ``nrows`` data rows if given); a 0-byte file is an empty frame.

    Raises:
        ValueError: the file is not parseable CSV with ``sep`` or not text.
    """
    try:
        # low_memory=False: one dtype per column, not one per chunk of a large file.
        return pd.read_csv(path, sep=sep, low_memory=False, nrows=nrows)
    except pd.errors.EmptyDataError:
        return pd.DataFrame()
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"could not read {path} as CSV with separator {sep!r}: {exc}") from exc


def read_parquet(path: Path, nrows: int | None = None) -> pd.DataFrame:
    """Read a Parquet log (its first ``nrows`` rows if given).

    Raises:
        ValueError: the file is not Parquet.
    """
    try:
        if nrows is None:
            return pd.read_parquet(path)
        # Only the row groups that hold the first rows are decoded: the file's row count is
        # in its footer, so a file far over a row limit costs nothing to refuse.
        with pq.ParquetFile(path) as handle:
            if handle.metadata.num_rows <= nrows:
                return pd.read_parquet(path)
            batches, seen = [], 0
            for batch in handle.iter_batches(batch_size=nrows):
                batches.append(batch)
                seen += batch.num_rows
                if seen >= nrows:
                    break
            table = pa.Table.from_batches(batches, schema=handle.schema_arrow)
            head: pd.DataFrame = table.slice(0, nrows).to_pandas()
            return head
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ValueError(f"could not read {path} as Parquet: {exc}") from exc


def count_rows(path: Path) -> int | None:
    """The data rows of a Parquet file, read from its footer; None for other formats (a CSV
    must be parsed to be counted).

    Raises:
        ValueError: the file is not Parquet.
    """
    if not is_typed_format(path):
        return None
    try:
        with pq.ParquetFile(path) as handle:
            return int(handle.metadata.num_rows)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ValueError(f"could not read {path} as Parquet: {exc}") from exc
