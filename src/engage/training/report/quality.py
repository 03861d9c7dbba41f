"""The report's account of the data: rows read, clean and set aside, and why."""

from __future__ import annotations

from engage.contract.validation import ValidationReport
from engage.reporting.record import DataFacts

TOP_REASONS = 5


def describe_data(
    validation: ValidationReport, rows_evaluated: int, rows_gate: int = 0
) -> DataFacts:
    """The data facts of a validation report and an evaluation of ``rows_evaluated`` held-out
    rows (the gains of ``rows_gate``)."""
    reasons = sorted(
        ((p.message, p.count) for p in validation.problems if p.severity == "quarantine"),
        key=lambda mc: -mc[1],
    )
    return DataFacts(
        rows_read=validation.n_input_rows,
        # a log validated on Dask keeps its rows on the cluster and counts them
        rows_clean=int(getattr(validation, "n_clean", len(validation.clean))),
        rows_quarantined=int(getattr(validation, "n_quarantined", len(validation.quarantine))),
        reasons=tuple(reasons[:TOP_REASONS]),
        more_reasons=max(0, len(reasons) - TOP_REASONS),
        warnings=tuple(p.message for p in validation.problems if p.severity == "warning"),
        rows_evaluated=rows_evaluated,
        rows_gate=rows_gate,
    )
