"""Log a run's report with the active MLflow run, under ``report/``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow

from engage.reporting import Report, render_png
from engage.training.report.build import build_report
from engage.training.report.inputs import ReportInputs

ARTIFACT_DIR = "report"
#: Also render the report as a PNG when a Chromium browser is installed (tests turn it off:
#: a picture costs seconds per run).
PICTURE = True


def log_report(inputs: ReportInputs, *, picture: bool | None = None, seed: int = 0) -> Report:
    """Build the report and log ``report/report.html`` (and ``report/report.png``).

    The picture is taken only when ``picture`` is true and a Chromium browser is installed;
    without one the run keeps the HTML alone (the reason is logged by
    :func:`~engage.reporting.render.render_png`).

    Args:
        inputs: what the run produced.
        picture: also render and log the PNG (None: :data:`PICTURE`).
        seed: seed of the report's samples and bootstrap.

    Returns:
        The report (its ``headline`` suits a model version's description).
    """
    report = build_report(inputs, seed=seed)
    with tempfile.TemporaryDirectory(prefix="engage-report-") as tmp:
        html = report.write(Path(tmp) / "report.html")
        mlflow.log_artifact(str(html), ARTIFACT_DIR)
        if PICTURE if picture is None else picture:
            png = render_png(html, Path(tmp) / "report.png")
            if png is not None:
                mlflow.log_artifact(str(png), ARTIFACT_DIR)
    return report
