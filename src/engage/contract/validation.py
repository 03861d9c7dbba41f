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

The checks are vectorised: Python loops only run over the distinct values of a categorical
column or over the bad rows (to build their reasons).
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
from pandas.api.types import (
    is_bool_dtype,
    is_datetime64_any_dtype,
    is_numeric_dtype,
    is_string_dtype,
)

from engage.contract.spec import CampaignSpec, CategoricalColumn, NumericColumn

Severity = Literal["error", "quarantine", "warning"]

_SEVERITY_ORDER = {"error": 0, "quarantine": 1, "warning": 2}
_CSV_SUFFIXES = {".csv", ".txt"}
_PARQUET_SUFFIXES = {".parquet", ".pq"}
_COMPRESSION_SUFFIXES = {".gz", ".bz2", ".zip", ".xz", ".zst"}
_MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Problem:
    """One problem found in a log; ``count`` is how many rows (or columns) it concerns."""

    severity: Severity
    column: str | None
    count: int
    message: str

    def __str__(self) -> str:
        return f"{self.severity.upper()}: {self.message}"


@dataclass
class ValidationReport:
    """The outcome of checking a log: clean rows, quarantined rows and every problem."""

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    n_input_rows: int = 0

    @property
    def fatal(self) -> bool:
        """True when any problem is an error: the log must not be used."""
        return any(p.severity == "error" for p in self.problems)

    def _headline(self) -> str:
        n, n_q = self.n_input_rows, len(self.quarantine)
        frac = n_q / n if n else 0.0
        return f"{n} rows read: {len(self.clean)} clean, {n_q} quarantined ({frac:.1%})"

    def summary(self) -> str:
        """Human-readable summary: counts, then every problem on its own line."""
        counts = {s: sum(p.severity == s for p in self.problems) for s in _SEVERITY_ORDER}
        if self.problems:
            tally = (
                f"{_plural(counts['error'], 'error')}, "
                f"{_plural(counts['quarantine'], 'quarantine problem')}, "
                f"{_plural(counts['warning'], 'warning')}"
            )
        else:
            tally = "no problems found"
        ordered = sorted(self.problems, key=lambda p: _SEVERITY_ORDER[p.severity])
        return "\n".join([self._headline(), tally, *(str(p) for p in ordered)])

    def fatal_summary(self) -> str:
        """The headline and the fatal problems only (the text of :class:`LogValidationError`)."""
        errors = [str(p) for p in self.problems if p.severity == "error"]
        head = f"campaign log is not usable ({_plural(len(errors), 'error')}); {self._headline()}"
        return "\n".join([head, *errors])

    def raise_if_fatal(self) -> None:
        """Raise :class:`LogValidationError` when the report holds an error."""
        if self.fatal:
            raise LogValidationError(self)


class LogValidationError(ValueError):
    """A log failed validation; ``report`` holds every problem found."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.fatal_summary())


# ---------------------------------------------------------------------------- reading


def read_log(path: str | Path, spec: CampaignSpec) -> pd.DataFrame:
    """Read a campaign log: ``.csv``/``.txt`` (``spec.read.sep``) or ``.parquet``/``.pq``.

    Types are inferred as usual and empty cells become NaN; coercion to the spec's types
    happens in :func:`validate_log`. A CSV with a header only (or a 0-byte file) gives an
    empty frame, which :func:`validate_log` reports as fatal.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: unknown extension, or the file cannot be parsed.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"campaign log not found: {path}")
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in _COMPRESSION_SUFFIXES:
        suffixes = suffixes[:-1]
    suffix = suffixes[-1] if suffixes else ""
    if suffix in _CSV_SUFFIXES:
        sep = spec.read.sep
        try:
            return pd.read_csv(path, sep=sep, low_memory=False)
        except pd.errors.EmptyDataError:
            return pd.DataFrame()
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise ValueError(f"could not read {path} as CSV with separator {sep!r}: {exc}") from exc
    if suffix in _PARQUET_SUFFIXES:
        try:
            return pd.read_parquet(path)
        except (OSError, ValueError) as exc:
            raise ValueError(f"could not read {path} as Parquet: {exc}") from exc
    shown = "".join(path.suffixes) or "(no extension)"
    raise ValueError(
        f"unsupported campaign-log format {shown!r} for {path}: "
        "use .csv or .txt (read with the spec's read.sep) or .parquet / .pq"
    )


def validate_file(
    path: str | Path, spec: CampaignSpec, quarantine_path: str | Path | None = None
) -> ValidationReport:
    """Read and validate a log; write the quarantined rows as CSV if ``quarantine_path``."""
    report = validate_log(read_log(path, spec), spec)
    if quarantine_path is not None and len(report.quarantine):
        quarantine_path = Path(quarantine_path)
        quarantine_path.parent.mkdir(parents=True, exist_ok=True)
        report.quarantine.to_csv(quarantine_path, index=False)
    return report


# ---------------------------------------------------------------------------- helpers


def _plural(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _rows_have(n: int) -> str:
    return "1 row has" if n == 1 else f"{n} rows have"


def _fmt(value: Any) -> str:
    """A short readable form of a cell value for messages."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        if np.isfinite(v) and v.is_integer() and abs(v) < 1e15:
            return str(int(v))
        return f"{v:.6g}"
    return repr(value) if isinstance(value, str) else str(value)


def _examples(values: Iterable[Any], limit: int = _MAX_EXAMPLES) -> str:
    """Up to ``limit`` distinct values, formatted, in first-seen order."""
    seen: list[str] = []
    for v in values:
        s = _fmt(v)
        if s not in seen:
            seen.append(s)
            if len(seen) == limit:
                break
    return ", ".join(seen)


def _bounds_text(lo: float | None, hi: float | None) -> str:
    return f"[{'-inf' if lo is None else _fmt(lo)}, {'inf' if hi is None else _fmt(hi)}]"


def _category_string(value: Any, allowed: set[str]) -> str | None:
    """Normalise one categorical value to the string it is compared as; None if blank.

    Integers and integral floats become their integer form ('1', not '1.0'), so a column of
    codes read as numbers matches spec values written as strings.
    """
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        text = str(bool(value))
        if text not in allowed and str(int(value)) in allowed:
            return str(int(value))
        return text
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return str(int(v)) if np.isfinite(v) and v.is_integer() else str(v)
    text = str(value)
    return None if not text.strip() else text


def _blank(values: pd.Series) -> np.ndarray:
    """Mask of string cells that are empty or whitespace only."""
    if not len(values) or not (is_string_dtype(values.dtype) or values.dtype == object):
        return np.zeros(len(values), dtype=bool)
    try:
        stripped = values.str.strip()
    except AttributeError:  # an object column without any strings
        return np.zeros(len(values), dtype=bool)
    return (stripped == "").to_numpy(dtype=bool, na_value=False)


class _Collector:
    """Collects problems and per-row reasons while the columns are checked."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.problems: list[Problem] = []
        self.bad = np.zeros(n, dtype=bool)
        self._reasons = np.full(n, "", dtype=object)

    def error(self, column: str | None, count: int, message: str) -> None:
        self.problems.append(Problem("error", column, count, message))

    def warning(self, column: str | None, count: int, message: str) -> None:
        self.problems.append(Problem("warning", column, count, message))

    def quarantine(
        self,
        column: str | None,
        mask: np.ndarray,
        message: Callable[[int, np.ndarray], str],
        reasons: Callable[[np.ndarray], Sequence[str]] | str,
    ) -> None:
        """Quarantine the rows of ``mask``; ``message(count, positions)`` and ``reasons``
        (a fixed string or a function of the bad positions) are only built if any row is bad.
        """
        pos = np.flatnonzero(mask)
        if not len(pos):
            return
        texts = [reasons] * len(pos) if isinstance(reasons, str) else list(reasons(pos))
        prefixed = np.array(["; " + t for t in texts], dtype=object)
        self._reasons[pos] = self._reasons[pos] + prefixed
        self.bad[pos] = True
        self.problems.append(Problem("quarantine", column, len(pos), message(len(pos), pos)))

    def reasons(self, pos: np.ndarray) -> np.ndarray:
        return np.array([r[2:] for r in self._reasons[pos]], dtype=object)


# ---------------------------------------------------------------------------- column checks


def _coerce_numeric(raw: pd.Series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Return (float64 values, missing mask, unparsable-text mask)."""
    missing = raw.isna().to_numpy(copy=True)
    if is_bool_dtype(raw.dtype) or is_numeric_dtype(raw.dtype):
        values = raw.to_numpy(dtype="float64", na_value=np.nan)
        return values, missing, np.zeros(len(raw), dtype=bool)
    source = raw.astype(object) if isinstance(raw.dtype, pd.CategoricalDtype) else raw
    parsed = pd.to_numeric(source, errors="coerce")
    values = pd.Series(parsed).to_numpy(dtype="float64", na_value=np.nan)
    failed = np.flatnonzero(~missing & np.isnan(values))
    if len(failed):  # empty / whitespace-only strings are missing values, not text
        blank = failed[_blank(raw.iloc[failed])]
        missing[blank] = True
    text = ~missing & np.isnan(values)
    return values, missing, text


def _check_numeric(
    c: _Collector,
    raw: pd.Series,
    name: str,
    *,
    lo: float | None = None,
    hi: float | None = None,
    rules: Sequence[tuple[Callable[[np.ndarray], np.ndarray], str]] = (),
) -> np.ndarray | None:
    """Check a numeric column; return its float64 values, or None if the column is fatal.

    ``lo``/``hi`` are inclusive bounds; each of ``rules`` is an extra (bad-mask function,
    description) pair such as "is not 0 or 1", checked on the finite values.
    """
    values, missing, text = _coerce_numeric(raw)
    n_text, n_present = int(text.sum()), int((~missing).sum())
    if n_text and n_text == n_present:
        c.error(
            name,
            n_text,
            f"column {name!r} should be numeric but holds text "
            f"(e.g. {_examples(raw.to_numpy()[text], 3)}) in {_plural(n_text, 'row')}",
        )
        return None
    c.quarantine(
        name,
        missing,
        lambda n, _: f"column {name!r}: {_rows_have(n)} a missing value",
        f"column {name!r}: missing value",
    )
    raw_values = raw.to_numpy()
    c.quarantine(
        name,
        text,
        lambda n, pos: (
            f"column {name!r}: {_rows_have(n)} a value that is not a number "
            f"(e.g. {_examples(raw_values[pos])})"
        ),
        lambda pos: [f"column {name!r}: not a number ({_fmt(v)})" for v in raw_values[pos]],
    )
    with np.errstate(invalid="ignore"):
        infinite = np.isinf(values)
        c.quarantine(
            name,
            infinite,
            lambda n, _: f"column {name!r}: {_rows_have(n)} an infinite value",
            f"column {name!r}: infinite value",
        )
        finite = np.isfinite(values)
        if lo is not None or hi is not None:
            out = finite & (
                (values < lo if lo is not None else False)
                | (values > hi if hi is not None else False)
            )
            bounds = _bounds_text(lo, hi)
            c.quarantine(
                name,
                out,
                lambda n, pos: (
                    f"column {name!r}: {_rows_have(n)} a value outside {bounds} "
                    f"(e.g. {_examples(values[pos])})"
                ),
                lambda pos: [f"column {name!r}: {_fmt(v)} outside {bounds}" for v in values[pos]],
            )
        for bad_fn, what in rules:
            broken = finite & bad_fn(values)
            c.quarantine(
                name,
                broken,
                lambda n, pos, what=what: (
                    f"column {name!r}: {_rows_have(n)} a value that {what} "
                    f"(e.g. {_examples(values[pos])})"
                ),
                lambda pos, what=what: [f"column {name!r}: {_fmt(v)} {what}" for v in values[pos]],
            )
    return values


@dataclass(frozen=True)
class _Categories:
    """A checked categorical column: per-row codes into the normalised distinct values."""

    codes: np.ndarray
    lookup: np.ndarray  # object array of str; the last entry (code -1) is None

    def take(self, positions: np.ndarray) -> pd.Series:
        """The values at ``positions`` as a str Series with a fresh 0..n-1 index."""
        distinct = pd.Series(self.lookup, dtype="str")
        codes = self.codes[positions]
        taken = distinct.take(np.where(codes < 0, len(self.lookup) - 1, codes))
        return taken.reset_index(drop=True)


def _check_categorical(c: _Collector, raw: pd.Series, col: CategoricalColumn) -> _Categories:
    """Check a categorical column, comparing its values as strings."""
    name, allowed = col.name, set(col.values)
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    normalised = [_category_string(u, allowed) for u in uniques]
    lookup = np.array([*normalised, None], dtype=object)  # code -1 (missing) -> None
    missing_codes = np.array([v is None for v in lookup])
    unknown_codes = np.array([v is not None and v not in allowed for v in lookup])
    c.quarantine(
        name,
        missing_codes[codes],
        lambda n, _: f"column {name!r}: {_rows_have(n)} a missing value",
        f"column {name!r}: missing value",
    )
    if unknown_codes.any():
        unknown = [v for v, bad in zip(lookup, unknown_codes, strict=True) if bad]
        shown = unknown[:_MAX_EXAMPLES]
        more = f" and {len(unknown) - len(shown)} more" if len(unknown) > len(shown) else ""
        c.quarantine(
            name,
            unknown_codes[codes],
            lambda n, _: (
                f"column {name!r}: {_rows_have(n)} unknown categories {shown}{more} "
                f"(allowed: {list(col.values)})"
            ),
            lambda pos: [f"column {name!r}: unknown category {v!r}" for v in lookup[codes[pos]]],
        )
    return _Categories(codes, lookup)


def _check_timestamp(c: _Collector, raw: pd.Series, name: str) -> pd.Series | None:
    """Parse a timestamp column; return it as datetime64, or None if the column is fatal."""
    missing = raw.isna().to_numpy(copy=True)
    if is_datetime64_any_dtype(raw.dtype):
        parsed = raw.reset_index(drop=True)
    else:
        source = raw.astype(str) if is_numeric_dtype(raw.dtype) else raw
        source = source.astype(object).reset_index(drop=True)
        source[missing] = None
        with warnings.catch_warnings():
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
                    parsed.iloc[retry] = again.astype(parsed.dtype).to_numpy()
        failed = np.flatnonzero(parsed.isna().to_numpy() & ~missing)
        if len(failed):
            missing[failed[_blank(raw.iloc[failed])]] = True
    unparsable = parsed.isna().to_numpy() & ~missing
    n_bad, n_present = int(unparsable.sum()), int((~missing).sum())
    raw_values = raw.to_numpy()
    if n_bad and n_bad == n_present:
        c.error(
            name,
            n_bad,
            f"column {name!r} should hold dates/times but none of its values parse "
            f"(e.g. {_examples(raw_values[unparsable], 3)}) in {_plural(n_bad, 'row')}",
        )
        return None
    c.quarantine(
        name,
        missing,
        lambda n, _: f"column {name!r}: {_rows_have(n)} a missing value",
        f"column {name!r}: missing value",
    )
    c.quarantine(
        name,
        unparsable,
        lambda n, pos: (
            f"column {name!r}: {_rows_have(n)} a timestamp that cannot be parsed "
            f"(e.g. {_examples(raw_values[pos])})"
        ),
        lambda pos: [f"column {name!r}: unparsable timestamp {_fmt(v)}" for v in raw_values[pos]],
    )
    return parsed


def _check_id(c: _Collector, raw: pd.Series, name: str) -> None:
    """Missing ids are quarantined; a repeated id keeps its first row, later rows go."""
    codes, uniques = pd.factorize(raw, use_na_sentinel=True)
    missing = (codes < 0) | _blank(raw)
    c.quarantine(
        name,
        missing,
        lambda n, _: f"column {name!r}: {_rows_have(n)} a missing id",
        f"column {name!r}: missing value",
    )
    present = np.flatnonzero(~missing)
    _, first_idx = np.unique(codes[present], return_index=True)
    first_pos = np.full(len(uniques) + 1, -1, dtype=np.int64)
    first_pos[codes[present][first_idx]] = present[first_idx]
    dup = ~missing & (first_pos[codes] != np.arange(len(codes)))
    c.quarantine(
        name,
        dup,
        lambda n, pos: (
            f"column {name!r}: {_rows_have(n)} a duplicate id "
            f"(e.g. {_examples(uniques[codes[pos]])}); the first occurrence of each id is kept"
        ),
        lambda pos: [
            f"duplicate id {_fmt_id(uniques[k])} (first at row {first_pos[k]})" for k in codes[pos]
        ],
    )


def _fmt_id(value: Any) -> str:
    text = _fmt(value)
    return text if text.startswith("'") else f"'{text}'"


# ---------------------------------------------------------------------------- main check


def validate_log(df: pd.DataFrame, spec: CampaignSpec) -> ValidationReport:
    """Check ``df`` against ``spec``; collect every problem and split clean/quarantined rows.

    The clean frame holds numeric columns as float64, categorical columns as python str,
    the timestamp as datetime64 and mix shares renormalised to sum to exactly 1; its columns
    are ``spec.declared_columns`` then the passthrough columns present in the file. The
    quarantine frame holds the raw bad rows plus ``_row`` (0-based input row) and
    ``_reason``.
    """
    n = len(df)
    c = _Collector(n)

    # ---- file level -----------------------------------------------------------------
    if df.columns.duplicated().any():
        dupes = sorted({str(x) for x in df.columns[df.columns.duplicated()]})
        c.error(
            dupes[0] if len(dupes) == 1 else None,
            len(dupes),
            f"the file has {_plural(len(dupes), 'column name')} more than once: {dupes}; "
            "only the first column of each name is checked",
        )
        df = df.loc[:, ~df.columns.duplicated()]
    columns = list(df.columns)
    present = set(columns)
    declared = spec.declared_columns
    missing_cols = [name for name in declared if name not in present]
    for name in missing_cols:
        hint = ""
        near = [x for x in columns if str(x).strip().casefold() == name.casefold()]
        if near:
            hint = f" (the file has {str(near[0])!r}: check spelling, case and spaces)"
        c.error(name, 1, f"required column {name!r} is missing from the file{hint}")
    if missing_cols and len(columns) == 1:
        c.warning(
            None,
            1,
            f"the file has a single column {str(columns[0])!r}: is the separator right? "
            f"(the spec's read.sep is {spec.read.sep!r})",
        )
    known = set(declared) | set(spec.passthrough)
    extra = [x for x in columns if x not in known]
    if extra:
        extra_col = str(extra[0]) if len(extra) == 1 else None
        listed = [str(x) for x in extra]
        if spec.extra_columns == "error":
            c.error(
                extra_col,
                len(extra),
                f"{_plural(len(extra), 'column')} not declared in the spec: {listed}; "
                "declare them under `passthrough:` or set `extra_columns: ignore`",
            )
        else:
            c.warning(
                extra_col,
                len(extra),
                f"{_plural(len(extra), 'column')} not declared in the spec ignored and "
                f"left out of the clean data: {listed}",
            )
    clean_cols = [x for x in declared if x in present]
    clean_cols += [x for x in spec.passthrough if x in present and x not in clean_cols]
    if n == 0:
        c.error(None, 0, "the log has no data rows (the file is empty or holds only a header)")
        return ValidationReport(
            clean=pd.DataFrame({x: df[x] for x in clean_cols}).reset_index(drop=True),
            quarantine=df.assign(_row=pd.Series(dtype="int64"), _reason=pd.Series(dtype="str")),
            problems=c.problems,
            n_input_rows=0,
        )

    # ---- row level: one pass over the declared columns that are present ---------------
    coerced: dict[str, Any] = {}
    fatal_cols: set[str] = set()

    if spec.id and spec.id in present:
        _check_id(c, df[spec.id], spec.id)
    if spec.timestamp and spec.timestamp in present:
        parsed = _check_timestamp(c, df[spec.timestamp], spec.timestamp)
        if parsed is None:
            fatal_cols.add(spec.timestamp)
        else:
            coerced[spec.timestamp] = parsed
    if spec.propensity and spec.propensity in present:
        coerced[spec.propensity] = _check_numeric(
            c,
            df[spec.propensity],
            spec.propensity,
            rules=[(lambda v: (v <= 0) | (v > 1), "is not a probability in (0, 1]")],
        )

    def check_column(decl: NumericColumn | CategoricalColumn) -> None:
        if decl.name not in present:
            return
        if isinstance(decl, CategoricalColumn):
            coerced[decl.name] = _check_categorical(c, df[decl.name], decl)
        else:
            coerced[decl.name] = _check_numeric(
                c, df[decl.name], decl.name, lo=decl.min, hi=decl.max
            )

    for decl in spec.context:
        check_column(decl)
    check_column(spec.style)
    mix_cols = spec.mix_columns
    for name in mix_cols:
        if name in present:
            coerced[name] = _check_numeric(
                c,
                df[name],
                name,
                rules=[
                    (lambda v: v < 0, "is a negative share"),
                    (lambda v: v > 1, "is a share above 1"),
                ],
            )
    for decl in spec.extra_decisions:
        check_column(decl)
    for outcome in spec.outcomes:
        if outcome.name not in present:
            continue
        rules = []
        if outcome.type == "binary":
            rules.append((lambda v: (v != 0) & (v != 1), "is not 0 or 1 (binary outcome)"))
        coerced[outcome.name] = _check_numeric(c, df[outcome.name], outcome.name, rules=rules)
    fatal_cols |= {name for name, values in coerced.items() if values is None}

    # ---- mix shares sum to 1 ---------------------------------------------------------
    mix_ok = bool(mix_cols) and all(coerced.get(name) is not None for name in mix_cols)
    if mix_ok:
        shares = np.column_stack([coerced[name] for name in mix_cols])
        with np.errstate(invalid="ignore"):
            valid = (
                np.isfinite(shares).all(axis=1)
                & (shares >= 0).all(axis=1)
                & (shares <= 1).all(axis=1)
            )
            total = shares.sum(axis=1)
        assert spec.decision.mix is not None
        tol = spec.decision.mix.tolerance
        off = valid & (np.abs(total - 1.0) > tol)
        label = " + ".join(mix_cols)
        c.quarantine(
            label,
            off,
            lambda n_off, pos: (
                f"mix shares {mix_cols}: {_rows_have(n_off)} shares that do not sum to 1 "
                f"within {_fmt(tol)} (e.g. sums {_examples(total[pos])})"
            ),
            lambda pos: [
                f"mix shares sum to {_fmt(s)} (must be 1 within {_fmt(tol)})" for s in total[pos]
            ],
        )

    # ---- assemble --------------------------------------------------------------------
    good = np.flatnonzero(~c.bad)
    bad = np.flatnonzero(c.bad)
    data: dict[str, Any] = {}
    for name in clean_cols:
        values = coerced.get(name)
        if values is None or name in fatal_cols:
            data[name] = df[name].iloc[good].reset_index(drop=True)
        elif isinstance(values, pd.Series):  # the parsed timestamp
            data[name] = values.iloc[good].reset_index(drop=True)
        elif isinstance(values, _Categories):
            data[name] = values.take(good)
        else:
            data[name] = values[good]
    if mix_ok and len(good):
        block = np.column_stack([data[name] for name in mix_cols])
        block = block / block.sum(axis=1, keepdims=True)
        for j, name in enumerate(mix_cols):
            data[name] = block[:, j]
    clean = pd.DataFrame(data, index=pd.RangeIndex(len(good)), columns=clean_cols)

    quarantine = df.iloc[bad].reset_index(drop=True)
    quarantine["_row"] = bad.astype(np.int64)
    quarantine["_reason"] = pd.Series(c.reasons(bad), dtype="str")

    # ---- after quarantine --------------------------------------------------------------
    n_clean, n_bad = len(good), len(bad)
    if n_clean == 0:
        c.error(None, n, f"no clean rows left: all {_plural(n, 'row')} were quarantined")
    style = spec.style.name
    if n_clean and style in present and style not in fatal_cols:
        seen = set(pd.unique(data[style]))
        unused = [s for s in spec.styles if s not in seen]
        if unused:
            c.error(
                style,
                len(unused),
                f"column {style!r}: declared {_plural(len(unused), 'style')} {unused} "
                f"{'has' if len(unused) == 1 else 'have'} no clean rows; remove unused styles "
                "from decision.style.values in the spec or add data for them",
            )
    fraction = n_bad / n
    if fraction > spec.max_quarantine_fraction:
        c.error(
            None,
            n_bad,
            f"{n_bad} of {n} rows ({fraction:.1%}) were quarantined, more than the spec's "
            f"max_quarantine_fraction {_fmt(spec.max_quarantine_fraction)} "
            f"({spec.max_quarantine_fraction:.0%})",
        )
    return ValidationReport(clean=clean, quarantine=quarantine, problems=c.problems, n_input_rows=n)
