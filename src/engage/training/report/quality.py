"""The report's account of the data: rows read, clean and set aside, and why."""

from __future__ import annotations

from dataclasses import dataclass

from engage.contract.validation import ValidationReport

TOP_REASONS = 5


@dataclass(frozen=True)
class DataFacts:
    """What validation did with the campaign log.

    Attributes:
        rows_read: rows in the input.
        rows_clean: rows used for training and evaluation.
        rows_quarantined: rows set aside (never silently dropped).
        reasons: the commonest quarantine reasons as (sentence, rows), most rows first.
        more_reasons: how many further reasons there are.
        warnings: warnings that lost no rows, as sentences.
        rows_evaluated: held-out campaigns the evaluation scored (never seen in training).
        rows_gate: campaigns the gains (and the shipping decision) were judged on: the held-out
            ones and training ones judged by models that did not see them (0: the held-out).
    """

    rows_read: int
    rows_clean: int
    rows_quarantined: int
    reasons: tuple[tuple[str, int], ...]
    more_reasons: int
    warnings: tuple[str, ...]
    rows_evaluated: int
    rows_gate: int = 0

    @property
    def quarantined_share(self) -> float:
        """The share of input rows set aside."""
        return self.rows_quarantined / self.rows_read if self.rows_read else 0.0


def describe_data(validation: ValidationReport, rows_evaluated: int, rows_gate: int = 0) -> DataFacts:
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
