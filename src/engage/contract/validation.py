"""Check a campaign log against its :class:`~engage.contract.spec.CampaignSpec`.

Every problem is collected before anything is reported, so a data team sees the whole list
at once instead of fixing one issue per run. Problems come in three severities:

* ``error``: the log cannot be used (a required column is missing, a numeric column holds
  text, no clean rows are left, ...). :attr:`ValidationReport.fatal` is true.
* ``quarantine``: some rows are bad but can be skipped. They go to
  :attr:`ValidationReport.quarantine` with their 0-based input row number (``_row``) and
  every reason (``_reason``); no row is ever dropped silently, so
  ``len(clean) + len(quarantine) == n_input_rows``.
* ``warning``: worth knowing, nothing was lost (e.g. undeclared columns ignored).

This module runs the checks in order (file, then each column in spec order, then what is
left after quarantine) and assembles the report; the checks live in
:mod:`engage.contract.checks`. The report types and :func:`read_log` are re-exported here,
where training, the CLI and tests import them from. :func:`validate_file` reads within
:class:`~engage.contract.limits.InputLimits` (size limits, a probe of the first rows, a cap
on the quarantine file; see :mod:`engage.contract.limits` and :mod:`.quarantine`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from engage.contract.checks.categorical import Categories, check_categorical
from engage.contract.checks.columns import (
    check_required_columns,
    check_undeclared_columns,
    clean_columns,
    drop_repeated_columns,
)
from engage.contract.checks.coverage import (
    check_clean_rows_left,
    check_quarantine_fraction,
    check_style_rows,
    check_styles_covered,
)
from engage.contract.checks.ids import check_id
from engage.contract.checks.mix import check_mix_sum, renormalise
from engage.contract.checks.numeric import BINARY, PROBABILITY, SHARE, check_numeric
from engage.contract.checks.outliers import check_outliers
from engage.contract.checks.timestamps import check_timestamp
from engage.contract.limits import InputLimitError, InputLimits, too_many_rows
from engage.contract.parquet_scan import scan_parquet
from engage.contract.prescan import scan_text
from engage.contract.quarantine import probe_verdict, stopped_report, write_quarantine
from engage.contract.readers import count_rows, is_typed_format, read_log
from engage.contract.report import LogValidationError, Problem, ProblemCollector, ValidationReport
from engage.contract.spec import CampaignSpec, CategoricalColumn, NumericColumn, Outcome

__all__ = [
    "InputLimitError",
    "InputLimits",
    "LogValidationError",
    "Problem",
    "ValidationReport",
    "read_log",
    "validate_file",
    "validate_log",
]

# A checked column: float64 values, parsed timestamps, or categorical labels; None when the
# column is fatal (its raw values are carried into the clean frame unchanged).
Coerced = np.ndarray | pd.Series | Categories | None


def validate_file(
    path: str | Path,
    spec: CampaignSpec,
    quarantine_path: str | Path | None = None,
    limits: InputLimits | None = None,
) -> ValidationReport:
    """Read and validate a log within ``limits``; write the quarantined rows as CSV if asked.

    The first ``limits.probe_rows`` rows are validated first; when they make the log unusable
    or too many of them are bad, the report is theirs, with a fatal problem saying so, and
    the rest of the file is never read.

    Args:
        path: The log (see :func:`read_log` for the formats).
        spec: The contract.
        quarantine_path: Where to write the quarantined rows (at most
            ``limits.max_quarantine_written``); nothing is written when no row is quarantined.
        limits: Size limits, the probe and the quarantine cap (defaults: :class:`InputLimits`).

    Returns:
        The report (it does not raise on a fatal log: see
        :meth:`ValidationReport.raise_if_fatal`).

    Raises:
        FileNotFoundError: the log does not exist.
        InputLimitError: the file has more bytes (decompressed) or rows than ``limits``
            allow, or breaks a limit of :mod:`engage.contract.prescan` (NUL bytes, a line, a
            field or a column count too large); nothing was validated.
        ValueError: the log's format is unknown or it cannot be parsed.
    """
    path, limits = Path(path), limits or InputLimits()
    if not path.exists():
        raise FileNotFoundError(f"campaign log not found: {path}")
    typed = is_typed_format(path)
    if typed:
        n_rows = count_rows(path)  # from the footer: a file far over the limit costs nothing
        if n_rows is not None and n_rows > limits.max_rows:
            raise too_many_rows(path, limits)
        scan_parquet(path, limits, what="campaign log")
    else:  # decompressed, NUL bytes, line, field and column limits, before pandas holds it
        scan_text(path, spec.read.sep, limits, what="campaign log")
    head = read_log(path, spec, nrows=limits.probe_rows + 1)
    if len(head) > limits.max_rows:  # a limit below the probe's size
        raise too_many_rows(path, limits)
    if len(head) <= limits.probe_rows:  # the probe is the whole file
        report = validate_log(head, spec, typed_source=typed)
    else:
        probe = validate_log(head.iloc[: limits.probe_rows], spec, typed_source=typed, partial=True)
        verdict = probe_verdict(probe, limits)
        if verdict is not None:
            report = stopped_report(probe, verdict)
        else:
            full = read_log(path, spec, nrows=limits.max_rows + 1)
            if len(full) > limits.max_rows:
                raise too_many_rows(path, limits)
            report = validate_log(full, spec, typed_source=typed)
    if quarantine_path is not None:
        write_quarantine(report, Path(quarantine_path), limits)
    return report


def validate_log(
    df: pd.DataFrame, spec: CampaignSpec, *, typed_source: bool = False, partial: bool = False
) -> ValidationReport:
    """Check ``df`` against ``spec``; collect every problem and split clean/quarantined rows.

    Args:
        df: The log as read (any index; it is not modified).
        spec: The contract.
        typed_source: ``df`` was read from a format that stores types (Parquet), so numbers
            stored as text are worth a warning.
        partial: ``df`` is only the first rows of a log: the checks of what is left after
            quarantine (styles covered, rows per style, quarantine fraction), which only the
            whole log can answer, are skipped.

    Returns:
        The report. Its clean frame holds numeric columns as float64, categorical columns
        as python str (their canonical labels), the timestamp as datetime64 and mix shares
        renormalised to sum to exactly 1; its columns are ``spec.declared_columns`` then the
        passthrough columns present in the file. Its quarantine frame holds the raw bad rows
        plus ``_row`` (0-based input row) and ``_reason``.
    """
    n = len(df)
    c = ProblemCollector(n)
    df = drop_repeated_columns(c, df)
    columns = list(df.columns)
    check_required_columns(c, columns, spec)
    check_undeclared_columns(c, columns, spec)
    kept = clean_columns(columns, spec)
    if n == 0:
        c.error(None, 0, "the log has no data rows (the file is empty or holds only a header)")
        return ValidationReport(
            clean=pd.DataFrame({x: df[x] for x in kept}).reset_index(drop=True),
            quarantine=df.assign(_row=pd.Series(dtype="int64"), _reason=pd.Series(dtype="str")),
            problems=c.problems,
            n_input_rows=0,
        )
    coerced = _check_columns(c, df, spec, typed_source)
    mix = _checked_mix(c, coerced, spec)
    good, bad = np.flatnonzero(~c.bad), np.flatnonzero(c.bad)
    clean = _clean_frame(df, coerced, kept, good, mix)
    quarantine = _quarantine_frame(df, c, bad)
    if not partial:
        check_clean_rows_left(c, n, len(good))
        if len(good) and coerced.get(spec.style.name) is not None:
            check_styles_covered(c, clean[spec.style.name], spec)
            check_style_rows(c, clean[spec.style.name], spec)
        check_quarantine_fraction(c, n, len(bad), spec)
    return ValidationReport(clean=clean, quarantine=quarantine, problems=c.problems, n_input_rows=n)


def _check_columns(
    c: ProblemCollector, df: pd.DataFrame, spec: CampaignSpec, typed_source: bool
) -> dict[str, Coerced]:
    """Check every declared column present, in spec order (the order of a row's reasons)."""
    present = set(df.columns)
    coerced: dict[str, Coerced] = {}
    if spec.id and spec.id in present:
        check_id(c, df[spec.id], spec.id)
    if spec.timestamp and spec.timestamp in present:
        coerced[spec.timestamp] = check_timestamp(
            c, df[spec.timestamp], spec.timestamp, spec.timestamp_format
        )
    name = spec.propensity_column
    if name and name in present:
        coerced[name] = check_numeric(
            c, df[name], name, rules=[PROBABILITY], typed_source=typed_source
        )
    for decl in [*spec.context, spec.style]:
        if decl.name in present:
            coerced[decl.name] = _check_declared(c, df[decl.name], decl, spec, typed_source)
    for name in spec.mix_columns:
        if name in present:
            coerced[name] = check_numeric(c, df[name], name, rules=SHARE, typed_source=typed_source)
    for decl in spec.extra_decisions:
        if decl.name in present:
            coerced[decl.name] = _check_declared(c, df[decl.name], decl, spec, typed_source)
    for outcome in spec.outcomes:
        if outcome.name in present:
            coerced[outcome.name] = _check_declared(
                c, df[outcome.name], outcome, spec, typed_source
            )
    return coerced


def _check_declared(
    c: ProblemCollector,
    raw: pd.Series,
    decl: NumericColumn | CategoricalColumn | Outcome,
    spec: CampaignSpec,
    typed_source: bool,
) -> Coerced:
    """A categorical column, or a numeric one (context, decision, outcome) and its outliers."""
    if isinstance(decl, CategoricalColumn):
        return check_categorical(c, raw, decl)
    binary = isinstance(decl, Outcome) and decl.type == "binary"
    values = check_numeric(
        c,
        raw,
        decl.name,
        lo=decl.min,
        hi=decl.max,
        rules=[BINARY] if binary else [],
        typed_source=typed_source,
    )
    if values is not None and not binary:
        with np.errstate(invalid="ignore"):  # NaN compares False
            judged = np.isfinite(values)
            if decl.min is not None:
                judged &= values >= decl.min
            if decl.max is not None:
                judged &= values <= decl.max
        check_outliers(c, values, judged, decl.name, decl.outliers, spec.outlier_iqr_multiple)
    return values


def _checked_mix(c: ProblemCollector, coerced: dict[str, Coerced], spec: CampaignSpec) -> list[str]:
    """Check the mix sums; return the share columns to renormalise (none if any is unusable)."""
    mix = spec.decision.mix
    if mix is None:
        return []
    columns = [v for x in mix.columns if isinstance(v := coerced.get(x), np.ndarray)]
    if len(columns) < len(mix.columns):
        return []
    shares = np.column_stack(columns)
    check_mix_sum(c, shares, mix.columns, mix.tolerance)
    return list(mix.columns)


def _clean_frame(
    df: pd.DataFrame,
    coerced: dict[str, Coerced],
    columns: list[str],
    good: np.ndarray,
    mix: list[str],
) -> pd.DataFrame:
    """The clean rows ``good``: coerced values where checked, raw values otherwise."""
    data: dict[str, np.ndarray | pd.Series] = {}
    for name in columns:
        values = coerced.get(name)
        if values is None:  # a passthrough or fatal column
            data[name] = df[name].iloc[good].reset_index(drop=True)
        elif isinstance(values, pd.Series):  # the parsed timestamp (already 0..n-1)
            data[name] = values.iloc[good].reset_index(drop=True)
        elif isinstance(values, Categories):
            data[name] = values.take(good)
        else:
            data[name] = values[good]
    if mix and len(good):
        block = renormalise(np.column_stack([data[x] for x in mix]))
        for j, name in enumerate(mix):
            data[name] = block[:, j]
    return pd.DataFrame(data, index=pd.RangeIndex(len(good)), columns=columns)


def _quarantine_frame(df: pd.DataFrame, c: ProblemCollector, bad: np.ndarray) -> pd.DataFrame:
    """The raw rows ``bad`` with their input position and joined reasons."""
    quarantine = df.iloc[bad].reset_index(drop=True)
    quarantine["_row"] = bad.astype(np.int64)
    quarantine["_reason"] = pd.Series(c.reasons(bad), dtype="str")
    return quarantine
