"""What validating a log produces: problems, the report, and the error a fatal report raises.

:class:`ProblemCollector` is how the checks build a report: each check adds problems and, for
the rows it quarantines, a reason per row; the reasons of one row are joined in check order.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from engage.contract.messages import plural, rows_have

Severity = Literal["error", "quarantine", "warning"]

_SEVERITY_ORDER: dict[Severity, int] = {"error": 0, "quarantine": 1, "warning": 2}


@dataclass(frozen=True)
class Problem:
    """One problem found in a log.

    Attributes:
        severity: ``error`` (the log is unusable), ``quarantine`` (rows were set aside) or
            ``warning`` (nothing was lost).
        column: The column concerned, or None for the file as a whole.
        count: How many rows (or columns) the problem concerns.
        message: A sentence a data team can act on.
    """

    severity: Severity
    column: str | None
    count: int
    message: str

    def __str__(self) -> str:
        return f"{self.severity.upper()}: {self.message}"


@dataclass
class ValidationReport:
    """The outcome of checking a log: clean rows, quarantined rows and every problem.

    Attributes:
        clean: The usable rows, coerced to the spec's types, with a fresh 0..n-1 index.
        quarantine: The raw rows set aside, plus ``_row`` (0-based input row) and
            ``_reason`` (every reason, ``; ``-joined).
        problems: Every problem, in the order the checks found them.
        n_input_rows: Rows in the input; always ``len(clean) + len(quarantine)``.
    """

    clean: pd.DataFrame
    quarantine: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    n_input_rows: int = 0

    @property
    def fatal(self) -> bool:
        """True when any problem is an error: the log must not be used."""
        return any(p.severity == "error" for p in self.problems)

    @property
    def quarantined_share(self) -> float:
        """The share of input rows quarantined (0 for an empty log)."""
        return len(self.quarantine) / self.n_input_rows if self.n_input_rows else 0.0

    def _headline(self) -> str:
        n, n_q, frac = self.n_input_rows, len(self.quarantine), self.quarantined_share
        if self.fatal:  # no row of a rejected log is clean, whatever passed the row checks
            return (
                f"{n} rows read: file rejected; {len(self.clean)} rows passed the row checks, "
                f"{n_q} quarantined ({frac:.1%})"
            )
        return f"{n} rows read: {len(self.clean)} clean, {n_q} quarantined ({frac:.1%})"

    def quarantine_lines(self) -> list[str]:
        """How many rows were quarantined, then one line per reason (with its count)."""
        n, n_q = self.n_input_rows, len(self.quarantine)
        if not n_q:
            return [f"quarantined 0 of {n:,} rows"]
        lines = [f"quarantined {n_q:,} of {n:,} rows ({self.quarantined_share:.1%}):"]
        return lines + [f"  - {p.message}" for p in self.problems if p.severity == "quarantine"]

    def summary(self) -> str:
        """Human-readable summary: the headline, the counts, then each problem on its own line."""
        counts = {s: sum(p.severity == s for p in self.problems) for s in _SEVERITY_ORDER}
        if self.problems:
            tally = (
                f"{plural(counts['error'], 'error')}, "
                f"{plural(counts['quarantine'], 'quarantine problem')}, "
                f"{plural(counts['warning'], 'warning')}"
            )
        else:
            tally = "no problems found"
        ordered = sorted(self.problems, key=lambda p: _SEVERITY_ORDER[p.severity])
        return "\n".join([self._headline(), tally, *(str(p) for p in ordered)])

    def fatal_summary(self) -> str:
        """The headline and the fatal problems only (the text of :class:`LogValidationError`)."""
        errors = [str(p) for p in self.problems if p.severity == "error"]
        head = f"campaign log is not usable ({plural(len(errors), 'error')}); {self._headline()}"
        return "\n".join([head, *errors])

    def raise_if_fatal(self) -> None:
        """Raise :class:`LogValidationError` when the report holds an error.

        Raises:
            LogValidationError: at least one problem is an error.
        """
        if self.fatal:
            raise LogValidationError(self)


class LogValidationError(ValueError):
    """A log failed validation; ``report`` holds every problem found."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report
        super().__init__(report.fatal_summary())


class ProblemCollector:
    """Gathers problems and per-row quarantine reasons while the columns of a log are checked.

    Args:
        n: The number of rows in the log.
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self.problems: list[Problem] = []
        self.bad = np.zeros(n, dtype=bool)
        self._reasons = np.full(n, "", dtype=object)

    def error(self, column: str | None, count: int, message: str) -> None:
        """Record a fatal problem."""
        self.problems.append(Problem("error", column, count, message))

    def warning(self, column: str | None, count: int, message: str) -> None:
        """Record a problem that loses nothing."""
        self.problems.append(Problem("warning", column, count, message))

    def quarantine_missing(self, column: str, mask: np.ndarray, what: str = "value") -> None:
        """Quarantine the rows of ``mask`` for a missing ``what`` in ``column`` (every check's
        wording of the same problem)."""
        self.quarantine(
            column,
            mask,
            lambda n, _: f"column {column!r}: {rows_have(n)} a missing {what}",
            f"column {column!r}: missing value",
        )

    def quarantine(
        self,
        column: str | None,
        mask: np.ndarray,
        message: Callable[[int, np.ndarray], str],
        reasons: Callable[[np.ndarray], Sequence[str]] | str,
    ) -> None:
        """Quarantine the rows of ``mask`` (a boolean array over all rows).

        Args:
            column: The column concerned, or None.
            mask: Which rows are bad.
            message: Builds the problem's message from the bad-row count and positions.
            reasons: One fixed reason for every bad row, or a function of the bad positions
                giving one reason per row.

        Both callables run only when a row is bad: a clean column costs one ``flatnonzero``.
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
        """The joined reasons of the rows at ``pos`` (object array of str)."""
        return np.array([r[2:] for r in self._reasons[pos]], dtype=object)
