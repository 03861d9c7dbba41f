"""The pre-scan of a Parquet input: decoded in batches, refused at the first limit it breaks.

The limits are those of :mod:`engage.contract.prescan` (which also says what they cost).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from engage.contract.limits import InputLimits
from engage.contract.messages import shown_names
from engage.contract.prescan import (
    BYTES_PER_CELL,
    MAX_COLUMNS,
    MAX_FIELD_BYTES,
    PARQUET_BATCH_ROWS,
    RAISE_HINT,
    Scanned,
    check_compressed_size,
    limit_error,
)


def scan_parquet(
    path: Path, limits: InputLimits, columns: Sequence[str] | None = None, what: str = "input"
) -> Scanned:
    """Decode a Parquet file in batches of :data:`PARQUET_BATCH_ROWS` rows (``columns`` only,
    when given) and refuse it at the first limit it breaks.

    Raises:
        InputLimitError: too many columns, a text cell too long, or too many decoded bytes.
        ValueError: the file is not Parquet.
    """
    check_compressed_size(path, limits, what)
    try:
        handle = pq.ParquetFile(path)
    except (OSError, ValueError, pa.ArrowException) as exc:
        raise ValueError(f"could not read {path} as Parquet: {exc}") from exc
    with handle:
        names = handle.schema_arrow.names
        if len(names) > MAX_COLUMNS:
            raise limit_error(
                path,
                what,
                f"{len(names):,} columns, more than {MAX_COLUMNS:,}, the limit "
                "(engage.contract.prescan.MAX_COLUMNS)",
            )
        wanted = [c for c in (columns if columns is not None else names) if c in names]
        total = rows = 0
        max_cells = limits.max_bytes // BYTES_PER_CELL
        if handle.metadata.num_rows * max(len(wanted), 1) > max_cells:
            raise limit_error(
                path,
                what,
                f"{handle.metadata.num_rows:,} rows of {len(wanted):,} columns, more than "
                f"{max_cells:,} cells, the limit of one per {BYTES_PER_CELL} bytes of "
                f"{limits.max_bytes:,} ({limits.name_of('max_bytes')}): each cell costs 8 to 64 "
                "bytes of memory once read",
                RAISE_HINT,
            )
        try:
            batches = handle.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=wanted)
            for batch in batches:
                total += batch.nbytes
                if total > limits.max_bytes:
                    raise limit_error(
                        path,
                        what,
                        f"more than {limits.max_bytes:,} bytes once decoded, the limit "
                        f"({limits.name_of('max_bytes')})",
                        RAISE_HINT,
                    )
                for name, column in zip(batch.schema.names, batch.columns, strict=True):
                    _check_cells(path, what, name, column, rows)
                rows += batch.num_rows
        except (OSError, pa.ArrowException) as exc:
            raise ValueError(f"could not read {path} as Parquet: {exc}") from exc
    return Scanned(total, rows, len(names))


def _check_cells(path: Path, what: str, name: str, column: pa.Array, first_row: int) -> None:
    kind = column.type
    if pa.types.is_dictionary(kind):
        column, kind = column.dictionary_decode(), kind.value_type
    if not (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
    ):
        return
    lengths = pc.binary_length(column)
    longest = pc.max(lengths).as_py()
    if longest is not None and longest > MAX_FIELD_BYTES:
        too_long = pc.greater(lengths, MAX_FIELD_BYTES)
        count = pc.sum(too_long).as_py()
        row = first_row + int(np.argmax(np.asarray(too_long.fill_null(False))))
        raise limit_error(
            path,
            what,
            f"column {shown_names([name])}: {count:,} cells longer than {MAX_FIELD_BYTES:,} "
            f"bytes (the limit, engage.contract.prescan.MAX_FIELD_BYTES) in rows {first_row:,} "
            f"to {first_row + len(column) - 1:,}, the first at row {row:,} ({longest:,} bytes)",
        )
