"""Quarantine bookkeeping around validation: the early stop on a bad probe, and the capped file.

See :mod:`engage.contract.limits` for the limits these apply.
"""

from __future__ import annotations

import json
from pathlib import Path

from engage.contract.limits import InputLimits
from engage.contract.report import Problem, ValidationReport

#: How many quarantine reasons the early-stop problem names (the largest counts first).
TOP_REASONS = 3

#: Where ``engage validate`` writes quarantine files by default, relative to the working
#: directory (the project's output folder), never beside the data: that folder may not be
#: the user's to write in (a shared dataset, a read-only mount).
QUARANTINE_DIR = Path("engage-output") / "quarantine"


def default_quarantine_path(data: str | Path, directory: str | Path = QUARANTINE_DIR) -> Path:
    """``<directory>/<data file name without suffix>.quarantine.csv`` for the log ``data``."""
    return Path(directory) / f"{Path(data).stem}.quarantine.csv"


def probe_verdict(probe: ValidationReport, limits: InputLimits) -> Problem | None:
    """The fatal problem that stops validation after the probe rows, or None to read on.

    Validation stops when the probe rows make the log unusable (a missing column, a column
    of text, ...) or when more than ``limits.probe_max_bad_share`` of them are quarantined.

    Args:
        probe: The report of the first rows, validated with ``partial=True``.
        limits: The probe's limits and their names.
    """
    n, n_bad = probe.n_input_rows, len(probe.quarantine)
    head = f"stopped after the first {n:,} rows, without reading the rest of the file"
    if probe.fatal:
        return Problem("error", None, n, f"{head}: they make the log unusable (see the errors)")
    limit = limits.probe_max_bad_share
    if n_bad <= limit * n:
        return None
    reasons = sorted(
        (p for p in probe.problems if p.severity == "quarantine"), key=lambda p: -p.count
    )[:TOP_REASONS]
    return Problem(
        "error",
        reasons[0].column if len(reasons) == 1 else None,
        n_bad,
        f"{head}: {n_bad:,} of them ({n_bad / n:.1%}) are bad, more than "
        f"{limit:.0%} ({limits.name_of('probe_max_bad_share')}); top reasons: "
        + "; ".join(p.message for p in reasons),
    )


def stopped_report(probe: ValidationReport, verdict: Problem) -> ValidationReport:
    """The probe's report with the problem that stopped validation added (fatal)."""
    return ValidationReport(
        clean=probe.clean,
        quarantine=probe.quarantine,
        problems=[*probe.problems, verdict],
        n_input_rows=probe.n_input_rows,
    )


def sidecar_path(quarantine_path: Path) -> Path:
    """Where the count of quarantined rows not written goes: ``<file>.truncated.json``."""
    return quarantine_path.with_name(quarantine_path.name + ".truncated.json")


def write_quarantine(report: ValidationReport, path: Path, limits: InputLimits) -> int:
    """Write at most ``limits.max_quarantine_written`` quarantined rows to ``path`` as CSV.

    When rows are left out, a sidecar (:func:`sidecar_path`) records how many, and a warning
    is added to ``report`` (its counts and reasons still cover every quarantined row). A
    sidecar left by an earlier run is removed, so it never describes another file.

    Args:
        report: The validation report (gets the warning).
        path: The quarantine CSV; nothing is written when no row is quarantined.
        limits: The cap and its name.

    Returns:
        The number of rows written.
    """
    sidecar = sidecar_path(path)
    sidecar.unlink(missing_ok=True)
    n_q, cap = len(report.quarantine), limits.max_quarantine_written
    if not n_q:
        return 0
    path.parent.mkdir(parents=True, exist_ok=True)
    written = min(n_q, cap)
    report.quarantine.head(written).to_csv(path, index=False)
    if written < n_q:
        not_written = n_q - written
        sidecar.write_text(
            json.dumps(
                {
                    "quarantine_file": path.name,
                    "rows_quarantined": n_q,
                    "rows_written": written,
                    "rows_not_written": not_written,
                    "limit": limits.name_of("max_quarantine_written"),
                },
                indent=2,
            )
        )
        report.problems.append(
            Problem(
                "warning",
                None,
                not_written,
                f"the quarantine file {path} holds the first {written:,} of {n_q:,} "
                f"quarantined rows; {not_written:,} were not written (limit "
                f"{cap:,}, {limits.name_of('max_quarantine_written')}; see {sidecar.name})",
            )
        )
    return written
