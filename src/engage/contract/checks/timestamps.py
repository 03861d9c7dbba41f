"""The timestamp column: parsed to datetime64 in the spec's declared format, else guessed.

With a declared format (``timestamp: {column: ..., format: "%d/%m/%Y"}`` or ``ISO8601``)
every value is read in it, and a value that does not match is quarantined with the reason.

Without one, a value is read by pandas' guess (the first value's format, then one guess per
row for the rows it misses), except dates written with the day and month as numbers before
the year (``03/04/2025``, ``3.4.25``, ``25-03-2025 10:00``): pandas would read such a column
day-first or month-first from its first value alone, and a day-first log then validates with
a third of its dates swapped. Any such value makes the column fatal, naming how many values
read as different dates either way (an example), which can only be one order, and the spec
key to set. Dates that happen to be unambiguous (``25/03/2025``) are refused too: reading
them in the order they prove would depend on which rows a file (or a partition of a
distributed log) holds, and one unambiguous value does not prove the others' order.
"""

from __future__ import annotations

import calendar
import contextlib
import re
import warnings

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype, is_numeric_dtype

from engage.contract.checks.missing import blank_cells
from engage.contract.messages import examples, format_value, plural, rows_have
from engage.contract.report import ProblemCollector

# Day and month as one or two digits before the year, one separator twice, then the end or
# a time: 03/04/2025, 3.4.25, 03-04-2025 10:00, 03/04/2025T10:00.
_DAY_MONTH_YEAR = re.compile(r"^\s*(\d{1,2})([./-])(\d{1,2})\2(\d{4}|\d{2})(?!\d)(.*)$", re.DOTALL)


def parse_timestamps(raw: pd.Series, fmt: str | None = None) -> tuple[pd.Series, np.ndarray]:
    """Parse a raw column as dates/times.

    With ``fmt`` every value is read in it (``ISO8601`` or a ``strptime`` format) and a value
    that does not match is unparsable. Without it the format of the first value is tried on
    every row; rows it misses are retried one by one (``format="mixed"``), so a file that
    mixes ``2024-01-05`` and ``5 March 2024`` parses (:func:`check_timestamp` refuses
    day/month-order values before they get here).

    Args:
        raw: The column as read.
        fmt: The declared format, or None.

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
            parsed = pd.to_datetime(source, errors="coerce", format=fmt)
        except (ValueError, TypeError):  # e.g. mixed time zones
            parsed = pd.to_datetime(source, errors="coerce", format=fmt, utc=True)
        retry = np.flatnonzero(parsed.isna().to_numpy() & ~missing)
        if fmt is None and 0 < len(retry) < len(source):  # rows in another format than the first
            again = pd.to_datetime(source.iloc[retry], errors="coerce", format="mixed")
            # incompatible time zones: those rows stay unparsable
            with contextlib.suppress(ValueError, TypeError):
                # pandas-stubs: iloc assignment accepts no ndarray of datetimes (pandas does)
                parsed.iloc[retry] = again.astype(parsed.dtype).to_numpy()  # type: ignore[call-overload]
    failed = np.flatnonzero(parsed.isna().to_numpy() & ~missing)
    if len(failed):  # blank text is a missing value, not an unparsable one
        missing[failed[blank_cells(raw.iloc[failed])]] = True
    return parsed, missing


def _suggested_format(first: int, second: int, sep: str, year: str, tail: str) -> list[str]:
    """The formats to declare for values like the example, the order they prove first."""
    date = {2: "%y", 4: "%Y"}[len(year)]
    time = tail.strip()
    clock = ""
    if re.fullmatch(r"\d{1,2}:\d{2}", time):
        clock = " %H:%M"
    elif re.fullmatch(r"\d{1,2}:\d{2}:\d{2}", time):
        clock = " %H:%M:%S"
    day_first = f"%d{sep}%m{sep}{date}{clock}"
    month_first = f"%m{sep}%d{sep}{date}{clock}"
    return [month_first, day_first] if second > 12 >= first else [day_first, month_first]


def refuse_undeclared_day_month(c: ProblemCollector, raw: pd.Series, name: str) -> bool:
    """Make the column fatal if any value writes day and month as numbers before the year
    and the spec declares no format (see the module doc).

    Returns:
        True if the column was refused.
    """
    if is_datetime64_any_dtype(raw.dtype) or is_numeric_dtype(raw.dtype):
        return False
    texts = raw.to_numpy(dtype=object)
    rows: list[int] = []
    numbers: list[tuple[int, int]] = []  # ints, not match objects: a log may hold millions
    for i, v in enumerate(texts):
        m = _DAY_MONTH_YEAR.match(v) if isinstance(v, str) else None
        if m is not None:
            rows.append(i)
            numbers.append((int(m.group(1)), int(m.group(3))))
    if not rows:
        return False
    pairs = np.array(numbers, dtype=np.int64)
    first, second = pairs[:, 0], pairs[:, 1]
    values = texts[rows]
    valid = (first >= 1) & (second >= 1) & (first <= 31) & (second <= 31)
    ambiguous = valid & (first <= 12) & (second <= 12) & (first != second)
    day_only = valid & (first > 12) & (second <= 12)
    month_only = valid & (second > 12) & (first <= 12)
    n_found, n_ambiguous = len(rows), int(ambiguous.sum())
    example = _DAY_MONTH_YEAR.match(values[int(np.flatnonzero(ambiguous)[0]) if n_ambiguous else 0])
    assert example is not None  # it matched above
    shown = format_value(example.group(0))
    if n_ambiguous:
        a, b, year = int(example.group(1)), int(example.group(3)), example.group(4)
        head = (
            f"{n_ambiguous:,} of {n_found:,} values written day/month/year or "
            f"month/day/year read as two different dates (e.g. {shown}: "
            f"{a} {calendar.month_name[b]} {year} or {b} {calendar.month_name[a]} {year})"
        )
    else:
        noun = "value" if n_found == 1 else "values"
        head = f"{n_found:,} {noun} written day/month/year or month/day/year (e.g. {shown})"
    evidence = [
        f"{int(mask.sum()):,} can only be {order} (e.g. {examples(values[mask], 1)})"
        for mask, order in ((day_only, "day-first"), (month_only, "month-first"))
        if mask.any()
    ]
    suggested = _suggested_format(
        int(example.group(1)), int(example.group(3)), *example.group(2, 4, 5)
    )
    if day_only.any() and not month_only.any():
        suggested = [s for s in suggested if s.startswith("%d")]
    elif month_only.any() and not day_only.any():
        suggested = [s for s in suggested if s.startswith("%m")]
    column = name if re.fullmatch(r"[A-Za-z_][\w-]*", name) else repr(name)
    declare = " or ".join(f"{{column: {column}, format: {s!r}}}" for s in suggested)
    c.error(
        name,
        n_ambiguous or n_found,
        f"column {name!r}: {head}"
        + (f"; {', '.join(evidence)}" if evidence else "")
        + f". The spec declares no format for the timestamp: declare it, e.g. "
        f"timestamp: {declare}",
    )
    return True


def check_timestamp(
    c: ProblemCollector, raw: pd.Series, name: str, fmt: str | None = None
) -> pd.Series | None:
    """Check the timestamp column.

    Args:
        c: Where problems and quarantine reasons go.
        raw: The column as read.
        name: The column's name, for messages.
        fmt: The spec's declared format (``ISO8601`` or a ``strptime`` format), or None.

    Returns:
        The column as datetime64 (fresh 0..n-1 index), or None if it is fatal: no value parses,
        or (without ``fmt``) a value writes day and month as numbers before the year.
    """
    if fmt is None and refuse_undeclared_day_month(c, raw, name):
        return None
    parsed, missing = parse_timestamps(raw, fmt)
    unparsable = parsed.isna().to_numpy() & ~missing
    n_bad, n_present = int(unparsable.sum()), int((~missing).sum())
    raw_values = raw.to_numpy()
    if n_bad and n_bad == n_present:
        should = (
            "should hold dates/times but none of its values parse"
            if fmt is None
            else f"should hold dates/times in the declared format {fmt!r} but none of its "
            "values match it"
        )
        c.error(
            name,
            n_bad,
            f"column {name!r} {should} (e.g. {examples(raw_values[unparsable], 3)}) "
            f"in {plural(n_bad, 'row')}",
        )
        return None
    c.quarantine_missing(name, missing)
    if fmt is None:
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
    else:
        c.quarantine(
            name,
            unparsable,
            lambda n, pos: (
                f"column {name!r}: {rows_have(n)} a timestamp that does not match the "
                f"declared format {fmt!r} (e.g. {examples(raw_values[pos])})"
            ),
            lambda pos: [
                f"column {name!r}: timestamp {format_value(v)} does not match the declared "
                f"format {fmt!r}"
                for v in raw_values[pos]
            ],
        )
    return parsed
