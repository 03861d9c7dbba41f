"""The validate step of ``engage train``: read the log within the input limits, validate it,
and refuse data a policy must not be learned from, before anything is logged.

Training is stricter than ``engage validate``: a log whose rows were quarantined beyond
``max_quarantine_share`` (default 5%) is refused unless the user opts in, because the clean
rest may no longer represent the campaigns (45% of a real file was once set aside for one
misspelt category and the run trained on the remainder without a word).
"""

from __future__ import annotations

import math

from engage.contract.limits import InputLimits
from engage.contract.messages import counted
from engage.contract.spec import CampaignSpec
from engage.contract.validation import ValidationReport, validate_file
from engage.training.settings import ENV_PREFIX, InputSettings
from engage.training.split import TrainingError, check_trainable

#: The settings behind the input limits a user may raise, named in the limits' messages; the
#: others (the probe, the quarantined rows written) are the contract's defaults.
LIMIT_SETTINGS = {"max_bytes": "max_input_bytes", "max_rows": "max_input_rows"}
#: Most quarantined rows written with a run (the run's ``rows_quarantined`` has the count).
MAX_QUARANTINE_ROWS_WRITTEN = InputLimits.max_quarantine_written


def quarantine_share_problem(report: ValidationReport, limit: float) -> str | None:
    """Why training refuses ``report``'s log for its quarantined share, or None if it does not.

    The one rule both ``engage train`` (:func:`validate_input`) and ``engage validate`` apply:
    more than ``limit`` (``max_quarantine_share``) of the rows quarantined."""
    share = report.quarantined_share
    if share <= limit:
        return None
    return (
        f"{len(report.quarantine):,} of {counted(report.n_input_rows, 'row')} ({share:.1%}) "
        f"{'was' if len(report.quarantine) == 1 else 'were'} "
        f"quarantined, more than the {limit:.0%} training accepts "
        f"({ENV_PREFIX}MAX_QUARANTINE_SHARE)"
    )


def quarantine_opt_in(report: ValidationReport) -> str:
    """How to accept ``report``'s quarantined share anyway."""
    opt_in = math.ceil(report.quarantined_share * 100) / 100
    return (
        f"accept the loss with --allow-quarantine {opt_in:g} "
        f"({ENV_PREFIX}MAX_QUARANTINE_SHARE={opt_in:g})"
    )


class QuarantineShareError(TrainingError):
    """More of the log was quarantined than training accepts; ``report`` says why."""

    def __init__(self, report: ValidationReport, limit: float) -> None:
        self.report = report
        problem = quarantine_share_problem(report, limit)
        lines = [
            f"{problem}; nothing was trained or registered. Fix the data, or "
            f"{quarantine_opt_in(report)}.",
            *report.quarantine_lines(),
        ]
        super().__init__("\n".join(lines))


def input_limits(settings: InputSettings) -> InputLimits:
    """The contract's input limits with the run's size limits, named by their variables."""
    return InputLimits(
        max_bytes=settings.max_input_bytes,
        max_rows=settings.max_input_rows,
        max_quarantine_written=MAX_QUARANTINE_ROWS_WRITTEN,
        names={k: f"{ENV_PREFIX}{v.upper()}" for k, v in LIMIT_SETTINGS.items()},
    )


def validate_input(settings: InputSettings, spec: CampaignSpec) -> ValidationReport:
    """Validate the run's log and refuse it if training must not go on.

    Raises:
        InputLimitError: the file is over a size limit (nothing was validated).
        LogValidationError: the log is fatally broken (its report lists every problem).
        QuarantineShareError: more than ``settings.max_quarantine_share`` of rows were
            quarantined.
        TrainingError: the clean rows cannot give a policy (the message also says how many
            rows were quarantined and why).
    """
    report = validate_file(settings.data, spec, limits=input_limits(settings))
    report.raise_if_fatal()
    if quarantine_share_problem(report, settings.max_quarantine_share) is not None:
        raise QuarantineShareError(report, settings.max_quarantine_share)
    try:
        check_trainable(report.clean, spec)
    except TrainingError as exc:
        raise TrainingError("\n".join([str(exc), *report.quarantine_lines()])) from exc
    return report
