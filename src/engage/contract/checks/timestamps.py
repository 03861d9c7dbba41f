"""The timestamp column: parsed to datetime64, one format per row if the file mixes several."""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

from engage.contract.checks.missing import blank_cells
from engage.contract.messages import examples, format_value, plural, rows_have
from engage.contract.report import ProblemCollector


def parse_timestamps(raw: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Parse a raw column as dates/times.

    The format of the first value is tried on every row; rows it misses are retried one by
    one (``format="mixed"``), so a file that mixes ``2024-01-05`` and ``5 March 2024`` parses.

    Args:
        raw: The column as read.

    Returns:
        The parsed column (NaT where missing or unparsable, a fresh 0..n-1 index) and the
        missing mask (NaN, None, blank text).
    """
    missing = raw.isna().to_numpy(copy=True)
    if is_datetime64_any_dtype(raw.dtype):
        return raw.reset_index(drop=True), missing
    source = raw.astype(str) if is_numeric_dtype(raw.dtype) else raw
    source = source.astype(object).reset_index(drop=True)
    source[missing] = None
    with warnings.catch_warnings():  # "could not infer format" is expected for mixed files
        warnings.simplefilter("ignore")
        try:
            parsed = pd.to_datetime(source, errors="coerce")
        except (ValueError, TypeError):  # e.g. mixed time zones
            parsed = pd.to_datetime(source, errors="coerce", utc=True)
        retry = np.flatnonzero(parsed.isna().to_numpy() & ~missing)
        if 0 < len(retry) < len(source):  # rows in another format than the first one
            again = pd.to_datetime(source.iloc[retry], errors="coerce", format="mixed")
            # incompatible time zones: those rows stay unparsable
            with contextlib.suppress(ValueError, TypeError):
                # pandas-stubs: iloc assignment accepts no ndarray of datetimes (pandas does)
                parsed.iloc[retry] = again.astype(parsed.dtype).to_numpy()  # type: ignore[call-overload]
    failed = np.flatnonzero(parsed.isna().to_numpy() & ~missing)
    if len(failed):  # blank text is a missing value, not an unparsable one
        missing[failed[blank_cells(raw.iloc[failed])]] = True
    return parsed, missing


def check_timestamp(c: ProblemCollector, raw: pd.Series, name: str) -> pd.Series | None:
    """Check the timestamp column.

    Args:
        c: Where problems and quarantine reasons go.
        raw: The column as read.
        name: The column's name, for messages.

    Returns:
        The column as datetime64 (fresh 0..n-1 index), or None if no value parses (fatal).
    """
    parsed, missing = parse_timestamps(raw)
    unparsable = parsed.isna().to_numpy() & ~missing
    n_bad, n_present = int(unparsable.sum()), int((~missing).sum())
    raw_values = raw.to_numpy()
    if n_bad and n_bad == n_present:
        c.error(
            name,
            n_bad,
            f"column {name!r} should hold dates/times but none of its values parse "
            f"(e.g. {examples(raw_values[unparsable], 3)}) in {plural(n_bad, 'row')}",
        )
        return None
    c.quarantine_missing(name, missing)
    c.quarantine(
        name,
        unparsable,
        lambda n, pos: (
            f"column {name!r}: {rows_have(n)} a timestamp that cannot be parsed "
            f"(e.g. {examples(raw_values[pos])})"
        ),
        lambda pos: [
            f"column {name!r}: unparsable timestamp {format_value(v)}" for v in raw_values[pos]
        ],
    )
    return parsed
