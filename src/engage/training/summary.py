"""The table printed at the end of ``engage train``."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from engage.training.pipeline import TrainResult


def print_summary(result: TrainResult, console: Console | None = None) -> None:
    """Policy values with intervals, regret, where the run is, whether it was promoted."""
    console = console or Console()
    table = Table(title="Policy value on the held-out split (objective per campaign)")
    table.add_column("policy")
    for est in ("dm", "ips", "snips", "dr", "observed", "true"):
        table.add_column(est.upper() if est != "observed" else "observed", justify="right")
    for name in ("learned", "best_constant", "logged"):
        ests = result.values.get(name, {})
        cells = []
        for est in ("dm", "ips", "snips", "dr", "observed", "true"):
            if est in ests:
                v, lo, hi = ests[est]
                cells.append(f"{v:.3f}" if est == "true" else f"{v:.3f} [{lo:.3f}, {hi:.3f}]")
            else:
                cells.append("")
        table.add_row(name.replace("_", " "), *cells)
    console.print(table)
    m = result.metrics
    if "true.oracle" in m:
        console.print(
            f"oracle value {m['true.oracle']:.3f}; normalised regret (oracle - policy) / (oracle - logged): "
            f"learned {m['regret.learned']:.3f}, best constant {m['regret.best_constant']:.3f}"
        )
    console.print(f"policy shipped: [bold]{result.mode}[/] — {result.decision_reason}")
    console.print(f"MLflow run {result.run_id} (experiment {result.experiment_id}) at {result.tracking_uri}")
    if result.version:
        state = "[green]promoted to champion[/]" if result.promoted else "[yellow]not promoted[/]"
        console.print(f"registered version {result.version}: {state} — {result.promotion_reason}")
