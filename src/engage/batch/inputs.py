"""The input of a batch job: Parquet files (a file, a folder or a glob) cut into pieces.

Every profile keeps its 0-based row number in the whole input (files in sorted path order),
``_row``, so a recommendation or a quarantined row can be traced back whichever engine read it.
"""

from __future__ import annotations

import glob
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from engage.contract.limits import InputLimits
from engage.contract.parquet_scan import scan_parquet

ROW = "_row"
_NO_SIZE_LIMIT = InputLimits(max_bytes=sys.maxsize)


class BatchInputError(ValueError):
    """The input cannot be scored at all (missing, not Parquet, a required column absent)."""


@dataclass(frozen=True)
class Piece:
    """Row groups ``groups`` of ``path``: rows ``first_row`` to ``first_row + rows`` of the input."""

    path: str
    groups: tuple[int, ...]
    first_row: int
    rows: int


def find_files(source: str | Path) -> list[Path]:
    """The Parquet files of ``source``: one file, a folder (searched recursively) or a glob.

    Raises:
        BatchInputError: nothing matches, or a match is not a ``.parquet`` file.
    """
    text = str(source)
    path = Path(text)
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*.parquet") if p.is_file())
    else:
        files = sorted(Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file())
    if not files:
        raise BatchInputError(f"input {text}: no Parquet file found (a file, folder or glob)")
    other = [p for p in files if p.suffix != ".parquet"]
    if other:
        raise BatchInputError(
            f"input {text}: {len(other):,} file(s) are not .parquet, e.g. {other[0]}"
        )
    return files


def check_columns(files: Sequence[Path], required: Sequence[str]) -> None:
    """Refuse the input when a file lacks a required column (naming the columns and the file),
    or breaks a limit of :mod:`engage.contract.prescan` in the columns read (more than
    ``MAX_COLUMNS`` columns, a text cell longer than ``MAX_FIELD_BYTES``): a chunk of
    ``chunk_rows`` rows then holds at most ``chunk_rows x MAX_FIELD_BYTES`` bytes per text
    column, whatever the file's compression.

    Raises:
        BatchInputError: a required column is missing from a file, or a file breaks a limit.
    """
    for path in files:
        names = set(pq.read_schema(path).names)
        missing = [c for c in required if c not in names]
        if missing:
            raise BatchInputError(
                f"{path}: {len(missing)} required column(s) missing: {', '.join(missing)}"
            )
        try:  # the input is streamed, so its total size has no limit here; its cells do
            scan_parquet(path, _NO_SIZE_LIMIT, columns=required, what="input")
        except ValueError as exc:  # InputLimitError included
            raise BatchInputError(str(exc)) from None


def plan_pieces(files: Sequence[Path], rows_per_piece: int) -> list[Piece]:
    """Cut the files into pieces of whole row groups, about ``rows_per_piece`` rows each
    (a row group larger than that is a piece of its own)."""
    pieces: list[Piece] = []
    offset = 0
    for path in files:
        meta = pq.ParquetFile(path).metadata
        groups: list[int] = []
        first, rows = offset, 0
        for g in range(meta.num_row_groups):
            n = meta.row_group(g).num_rows
            if groups and rows + n > rows_per_piece:
                pieces.append(Piece(str(path), tuple(groups), first, rows))
                groups, first, rows = [], offset, 0
            groups.append(g)
            rows += n
            offset += n
        if groups:
            pieces.append(Piece(str(path), tuple(groups), first, rows))
    return pieces


def count_input_rows(files: Sequence[Path]) -> int:
    """Rows of every file, from the Parquet footers (nothing else is read)."""
    return sum(pq.ParquetFile(p).metadata.num_rows for p in files)


def _numbered(frame: pd.DataFrame, first_row: int) -> pd.DataFrame:
    frame.index = pd.RangeIndex(first_row, first_row + len(frame))
    frame.insert(0, ROW, frame.index.to_numpy())
    return frame


def read_piece(piece: Piece, columns: Sequence[str]) -> pd.DataFrame:
    """The rows of one piece (``columns`` only) with their ``_row`` numbers."""
    table = pq.ParquetFile(piece.path).read_row_groups(list(piece.groups), columns=list(columns))
    return _numbered(table.to_pandas(), piece.first_row)


def stream_chunks(
    files: Sequence[Path], columns: Sequence[str], chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """The input in chunks of at most ``chunk_rows`` rows, each with its ``_row`` numbers;
    only one chunk is held at a time."""
    offset = 0
    for path in files:
        for batch in pq.ParquetFile(path).iter_batches(
            batch_size=chunk_rows, columns=list(columns)
        ):
            frame = _numbered(batch.to_pandas(), offset)
            offset += len(frame)
            yield frame
