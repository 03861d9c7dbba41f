"""The report printed at the end of ``engage train``.

It reads a finished run through :class:`TrainedRun`, the fields of training's ``TrainResult``
it prints, so reporting needs nothing from training (the summary also says whether the
version was registered and promoted, which happens after the run's report is logged).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse
from urllib.request import url2pathname

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from engage.contract.validation import ValidationReport
from engage.ope import Values
from engage.reporting.wording import verdict


class TrainedRun(Protocol):
    """What the summary prints of a finished run (training's ``TrainResult`` has it all)."""

    @property
    def run_id(self) -> str: ...
    @property
    def experiment_id(self) -> str: ...
    @property
    def tracking_uri(self) -> str: ...
    @property
    def policy(self) -> Any: ...  # its ``spec.row_noun`` names a row ("campaign", "post")
    @property
    def metrics(self) -> dict[str, float]: ...
    @property
    def values(self) -> Values: ...
    @property
    def mode(self) -> str: ...
    @property
    def decision_reason(self) -> str: ...
    @property
    def objective_weights(self) -> dict[str, float]: ...
    @property
    def version(self) -> str | None: ...
    @property
    def promoted(self) -> bool: ...
    @property
    def promotion_reason(self) -> str: ...
    @property
    def validation(self) -> ValidationReport | None: ...
    @property
    def artifact_uri(self) -> str: ...  # the run's artifact root ("" when unknown)
    @property
    def ui_page(self) -> str: ...  # the run in MLflow's UI, on its runs view ("": unknown)


#: Where training logs the report page among the run's artifacts.
REPORT_ARTIFACT = "report/report.html"

ESTIMATORS = ("dm", "ips", "snips", "dr", "range", "observed", "true")
ESTIMATOR_LABELS = {est: est.upper() for est in ESTIMATORS} | {
    "range": "DR range",
    "observed": "observed",
    "true": "true",
}
POLICIES = ("learned", "best_constant", "logging", "logged")  # "logging": when valued


def describe_weights(weights: Mapping[str, float]) -> str:
    """Signed objective weights in words: ``conversions 1, engagement_rate 0, ...``."""
    # + 0.0 turns the -0.0 of a zero-weighted "minimize" outcome into 0
    return ", ".join(f"{name} {w + 0.0:g}" for name, w in weights.items())


def quarantine_lines(report: ValidationReport) -> list[str]:
    """How many rows were quarantined, then one line per reason (its message gives the count)."""
    return report.quarantine_lines()


def print_summary(result: TrainedRun, console: Console | None = None) -> None:
    """Objective, quarantine, policy values with intervals, regret, where the run is, and
    whether it was promoted."""
    console = console or Console()
    # plain text, one line each however narrow the terminal (these are read and grepped)
    lines = [f"objective: {describe_weights(result.objective_weights)}"]
    if result.validation is not None:
        lines += quarantine_lines(result.validation)
        lines += [
            f"warning: {p.message}" for p in result.validation.problems if p.severity == "warning"
        ]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    console.print(_values_table(result))
    m = result.metrics
    if "true.oracle" in m:
        console.print(
            f"oracle value {m['true.oracle']:.3f}; normalised regret (oracle - policy) / (oracle - logged): "
            f"learned {m['regret.learned']:.3f}, best constant {m['regret.best_constant']:.3f}"
        )
    for line in decided_gain_lines(result.metrics):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    # "shipped" only when it serves: a version that was not promoted was chosen, not shipped
    done = "shipped" if result.promoted else "chosen (not promoted)"
    console.print(f"policy {done}: [bold]{result.mode}[/] — {escape(result.decision_reason)}")
    console.print(
        f"MLflow run {result.run_id} (experiment {result.experiment_id}) at {result.tracking_uri}"
    )
    if result.ui_page:  # one line, whole: it opens MLflow's UI on the runs view
        console.print(
            f"in MLflow's UI: {result.ui_page}", markup=False, highlight=False, soft_wrap=True
        )
    # one line however narrow the terminal: a path is copied whole
    report = report_line(result.run_id, result.artifact_uri)
    console.print(report, markup=False, highlight=False, soft_wrap=True)
    if result.version:
        state = "[green]promoted to champion[/]" if result.promoted else "[yellow]not promoted[/]"
        console.print(
            f"registered version {result.version}: {state} — {escape(result.promotion_reason)}"
        )


#: the gains the summary prints, as the decision judged them: the run's ``headline.*`` metrics
#: (the same figures the report's headline and the decision's reason give), with their words
DECIDED_GAINS = (
    ("gain_vs_logged", "shipped policy over what marketers did"),
    ("learned_gain_vs_best_constant", "personalised policy over the best constant"),
)


def decided_gain_lines(metrics: Mapping[str, float]) -> list[str]:
    """The shipped policy's gain over the logged policy and the personalised policy's over the
    best constant, each with its 95% interval and verdict, from the run's ``headline.*``
    metrics; none when the run has not those."""
    rows = metrics.get("gate.rows")
    on = f" ({int(rows):,} rows)" if rows else ""
    lines = []
    for figure, words in DECIDED_GAINS:
        name = f"headline.{figure}"
        if not all(name + end in metrics for end in ("", "_low", "_high")):
            continue
        value, low, high = (metrics[name + end] for end in ("", "_low", "_high"))
        lines.append(
            f"{words}, as the decision judged it{on}: {value:+.3f} (95% interval {low:+.3f} "
            f"to {high:+.3f}): {verdict(low, high)}"
        )
    return lines


def report_line(run_id: str, artifact_uri: str) -> str:
    """Where the run's report is: its MLflow artifact path, and the file itself when the
    artifacts are on this machine (a ``file:`` URI or a plain path), else the artifact's URI."""
    line = f"report: artifact {REPORT_ARTIFACT} of run {run_id}"
    if not artifact_uri:
        return line
    parsed = urlparse(artifact_uri)
    if parsed.scheme in ("", "file"):
        local = Path(url2pathname(parsed.path) if parsed.scheme else artifact_uri)
        return f"{line}: {local / REPORT_ARTIFACT}"
    return f"{line}: {artifact_uri.rstrip('/')}/{REPORT_ARTIFACT}"


def _values_table(result: TrainedRun) -> Table:
    """One row per policy and estimator (only those the run has: no ``true`` on real data), the
    interval in its own column that never wraps, so the table reads whole at 80 columns and
    when piped."""
    spec = getattr(result.policy, "spec", None)
    row = getattr(spec, "row_noun", "campaign")  # "post" for a log of posts
    # the gate's rows, the same the gains printed below it and the decision's reason are of
    table = Table(title=f"Policy value on the gate's rows (objective per {row})")
    table.add_column("policy", no_wrap=True)
    table.add_column("estimator", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("95% interval", justify="right", no_wrap=True)
    for name in POLICIES:
        ests = result.values.get(name, {})
        shown = [est for est in ESTIMATORS if est in ests]
        for i, est in enumerate(shown):
            v, lo, hi = ests[est]
            interval = "exact (oracle)" if est == "true" else format_interval(lo, hi)
            table.add_row(
                name.replace("_", " ") if i == 0 else "",
                ESTIMATOR_LABELS[est],
                f"{v:.3f}",
                interval,
                end_section=i == len(shown) - 1,
            )
    return table


def format_interval(low: float, high: float) -> str:
    """``[low, high]`` with three decimals."""
    return f"[{low:.3f}, {high:.3f}]"
