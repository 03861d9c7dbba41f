"""Read a partitioned Parquet log with Dask and validate it partition by partition.

Each partition goes through the contract's own :func:`~engage.contract.validation.validate_log`
on a worker (``partial=True``: the checks that need the whole log run here, on aggregates).
The clean rows stay on the workers; only counts, problems and a capped sample of quarantined
rows reach the client.

Differences from validating one file, stated in the report's problems where they apply:

* outliers are judged against each partition's quartiles (partitions of a few thousand rows
  or more give nearly the same fences as the whole log);
* duplicate ids are quarantined within a partition; duplicates across partitions are counted
  and reported as a warning, not quarantined;
* the single-file input limits (``max_input_rows``, ``max_input_bytes``, the probe) do not
  apply: a cluster is what a log past them is for;
* a quarantined row's ``_row`` is its position within its partition, ``_partition`` says which.
"""

from __future__ import annotations

import glob
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from engage.contract.checks.coverage import (
    check_clean_rows_left,
    check_quarantine_fraction,
    check_style_rows,
    check_styles_covered,
)
from engage.contract.readers import PARQUET_SUFFIXES
from engage.contract.report import Problem, ProblemCollector, ValidationReport
from engage.contract.spec import CampaignSpec
from engage.contract.validation import validate_log
from engage.training.settings import ENV_PREFIX, InputSettings
from engage.training.split import MIN_ROWS, TrainingError

MIN_QUARANTINE_SAMPLE_PER_PARTITION = 100


def log_parts(path: str | Path) -> list[Path]:
    """The Parquet files of a partitioned log: every ``*.parquet``/``*.pq`` under a folder
    (recursively, sorted), the files a glob matches, or one file.

    Raises:
        FileNotFoundError: nothing there, or no Parquet file in it.
        ValueError: a matched file is not Parquet.
    """
    text = str(path)
    p = Path(text)
    if p.is_dir():
        files = sorted(
            f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in PARQUET_SUFFIXES
        )
    elif any(ch in text for ch in "*?["):
        files = sorted(Path(f) for f in glob.glob(text, recursive=True) if Path(f).is_file())
    elif p.exists():
        files = [p]
    else:
        raise FileNotFoundError(f"campaign log not found: {text}")
    if not files:
        raise FileNotFoundError(f"no Parquet file (.parquet, .pq) in {text}")
    other = [f for f in files if f.suffix.lower() not in PARQUET_SUFFIXES]
    if other:
        raise ValueError(
            f"--dask reads Parquet only: {len(other)} of the {len(files)} files matched by {text} "
            f"are not .parquet/.pq (first: {other[0].name})"
        )
    return files


def read_partitioned(path: str | Path) -> Any:
    """The log as a ``dask.dataframe`` (one partition per row group or file, as Dask reads)."""
    import dask.dataframe as dd

    return dd.read_parquet([str(f) for f in log_parts(path)])


@dataclass
class DistributedReport(ValidationReport):
    """A :class:`ValidationReport` of a log validated partition by partition.

    ``clean`` holds no rows (they stay on the cluster; ``n_clean`` counts them) and
    ``quarantine`` is a capped sample of the quarantined rows (``n_quarantined`` counts them
    all); every count the report prints is of the whole log.
    """

    n_clean: int = 0
    n_quarantined: int = 0
    partitions: int = 0
    style_counts: dict[str, int] = field(default_factory=dict)

    @property
    def quarantined_share(self) -> float:
        return self.n_quarantined / self.n_input_rows if self.n_input_rows else 0.0

    def _headline(self) -> str:
        n, share = self.n_input_rows, self.quarantined_share
        head = f"{n} rows read in {self.partitions} partitions"
        if self.fatal:
            return f"{head}: file rejected; {self.n_clean} rows passed the row checks, {self.n_quarantined} quarantined ({share:.1%})"
        return f"{head}: {self.n_clean} clean, {self.n_quarantined} quarantined ({share:.1%})"

    def quarantine_lines(self) -> list[str]:
        n, n_q = self.n_input_rows, self.n_quarantined
        if not n_q:
            return [f"quarantined 0 of {n:,} rows"]
        lines = [f"quarantined {n_q:,} of {n:,} rows ({self.quarantined_share:.1%}):"]
        return lines + [f"  - {p.message}" for p in self.problems if p.severity == "quarantine"]


def validate_partition(
    part: pd.DataFrame, index: int, spec: CampaignSpec, sample_rows: int
) -> dict[str, Any]:
    """Validate one partition (on a worker): its clean rows and a small summary for the client."""
    report = validate_log(part, spec, typed_source=True, partial=True)
    style = spec.style.name
    fatal = report.fatal
    clean = report.clean.head(0) if fatal else report.clean
    reasons: Counter[str] = Counter()
    for joined in report.quarantine["_reason"]:
        reasons.update(str(joined).split("; "))
    quarantine = report.quarantine.head(sample_rows).assign(_partition=index)
    styles = (
        {}
        if fatal or style not in clean
        else {str(k): int(v) for k, v in clean[style].value_counts().items()}
    )
    return {
        "clean": clean,
        "summary": {
            "n": len(part),
            "n_clean": len(clean),
            "n_quarantined": len(report.quarantine),
            "problems": [p for p in report.problems if p.severity != "quarantine"],
            "reasons": dict(reasons),
            "quarantine": quarantine,
            "styles": styles,
        },
    }


def summary_of(result: dict[str, Any]) -> dict[str, Any]:
    """The client's part of :func:`validate_partition`'s result."""
    return result["summary"]


def clean_of(result: dict[str, Any]) -> pd.DataFrame:
    """The clean rows of :func:`validate_partition`'s result (stays on the worker)."""
    return result["clean"]


def _shape(message: str) -> str:
    """A problem's message with its numbers blanked: the same problem in every partition."""
    return re.sub(r"\d[\d,.]*", "#", message)


def _reason_column(reason: str) -> str | None:
    match = re.match(r"column '([^']+)'", reason)
    return match.group(1) if match else None


def aggregate_reports(
    summaries: list[dict[str, Any]], spec: CampaignSpec, quarantine_cap: int
) -> DistributedReport:
    """One report of the whole log from every partition's summary, with the whole-log checks
    (clean rows left, styles covered, rows per style, quarantine fraction) on the totals."""
    n = sum(s["n"] for s in summaries)
    n_clean = sum(s["n_clean"] for s in summaries)
    n_q = sum(s["n_quarantined"] for s in summaries)
    problems: list[Problem] = []
    grouped: dict[tuple[str, str | None, str], list[Problem]] = {}
    for s in summaries:
        for p in s["problems"]:
            grouped.setdefault((p.severity, p.column, _shape(p.message)), []).append(p)
    for same in grouped.values():
        first = same[0]
        message = (
            first.message
            if len(same) == 1
            else (
                f"{first.message} [in {len(same)} of {len(summaries)} partitions, "
                f"{sum(p.count for p in same):,} in all]"
            )
        )
        problems.append(Problem(first.severity, first.column, sum(p.count for p in same), message))
    reasons: Counter[str] = Counter()
    for s in summaries:
        reasons.update(s["reasons"])
    for reason, count in reasons.most_common():
        problems.append(
            Problem("quarantine", _reason_column(reason), count, f"{reason}: {count:,} rows")
        )
    styles: Counter[str] = Counter()
    for s in summaries:
        styles.update(s["styles"])
    c = ProblemCollector(0)
    if n == 0:
        c.error(None, 0, "the log has no data rows")
    else:
        check_clean_rows_left(c, n, n_clean)
        if n_clean and not any(p.severity == "error" for p in problems):
            check_styles_covered(c, styles, spec)  # a Counter iterates over its styles
            check_style_rows(c, styles, spec)  # ... and Counter(counter) keeps its counts
        check_quarantine_fraction(c, n, n_q, spec)
    frames = [s["quarantine"] for s in summaries if len(s["quarantine"])]
    sample = pd.concat(frames, ignore_index=True).head(quarantine_cap) if frames else pd.DataFrame()
    return DistributedReport(
        clean=pd.DataFrame(),
        quarantine=sample,
        problems=problems + c.problems,
        n_input_rows=n,
        n_clean=n_clean,
        n_quarantined=n_q,
        partitions=len(summaries),
        style_counts=dict(styles),
    )


def refuse_untrainable(
    report: DistributedReport, spec: CampaignSpec, settings: InputSettings
) -> None:
    """What :func:`engage.training.intake.validate_input` refuses, on the aggregated report.

    Raises:
        LogValidationError: the log is fatally broken. TrainingError: too much of it was
            quarantined, or too few clean rows or styles are left to learn a policy.
    """
    report.raise_if_fatal()
    limit = settings.max_quarantine_share
    if report.quarantined_share > limit:
        opt_in = math.ceil(report.quarantined_share * 100) / 100
        raise TrainingError(
            "\n".join(
                [
                    f"{report.n_quarantined:,} of {report.n_input_rows:,} rows "
                    f"({report.quarantined_share:.1%}) were quarantined, more than the {limit:.0%} "
                    f"training accepts ({ENV_PREFIX}MAX_QUARANTINE_SHARE); nothing was trained or "
                    f"registered. Fix the data, or accept the loss with --allow-quarantine {opt_in:g}.",
                    *report.quarantine_lines(),
                ]
            )
        )
    problem = None
    if len(spec.styles) < 2:
        problem = "the spec declares a single style: there is nothing to choose between"
    elif report.n_clean < MIN_ROWS:
        problem = f"only {report.n_clean} valid rows: at least {MIN_ROWS} are needed to train"
    if problem:
        raise TrainingError("\n".join([problem, *report.quarantine_lines()]))


def quarantine_sample_per_partition(cap: int, partitions: int) -> int:
    """Quarantined rows each partition sends to the client: its share of the cap (at least
    :data:`MIN_QUARANTINE_SAMPLE_PER_PARTITION`, so every partition's reasons show)."""
    return max(MIN_QUARANTINE_SAMPLE_PER_PARTITION, math.ceil(cap / max(partitions, 1)))
