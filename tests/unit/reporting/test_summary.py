"""The report of ``engage train``: the effective objective and why rows were quarantined."""

from __future__ import annotations

from engage.contract.spec import load_spec
from engage.contract.validation import validate_log
from engage.reporting.summary import describe_weights, print_summary, quarantine_lines
from engage.simulation.world import SimulatedWorld


def test_weights_are_signed_and_complete() -> None:
    spec = load_spec()
    text = describe_weights(spec.outcome_weights({"conversions": 1}))
    assert text == "conversions 1, engagement_rate 0, follower_growth 0, retention_30d 0"
    assert describe_weights({"cost": -0.5, "churn": -0.0}) == "cost -0.5, churn 0"


def test_quarantine_is_counted_per_reason() -> None:
    log = SimulatedWorld("hard").simulate(300, seed=1)
    log.loc[[3, 7, 11], "industry"] = "crypto"
    log.loc[[5], "followers"] = None
    report = validate_log(log, load_spec())
    lines = quarantine_lines(report)
    assert lines[0] == "quarantined 4 of 300 rows (1.3%):"
    assert len(lines) == 3
    assert any("industry" in line and "3 rows" in line and "crypto" in line for line in lines[1:])
    assert any("followers" in line and "1 row" in line for line in lines[1:])
    clean = validate_log(SimulatedWorld("hard").simulate(50, seed=1), load_spec())
    assert quarantine_lines(clean) == ["quarantined 0 of 50 rows"]


def test_summary_prints_objective_and_quarantine_one_line_each() -> None:
    import io

    from rich.console import Console

    from engage.training.pipeline import TrainResult

    log = SimulatedWorld("hard").simulate(300, seed=1)
    log.loc[[3, 7, 11], "industry"] = "crypto"
    spec = load_spec()
    result = TrainResult(
        run_id="r",
        experiment_id="1",
        tracking_uri="sqlite:///x.db",
        policy=None,
        metrics={},
        values={"learned": {"dr": (1.0, 0.5, 1.5)}},
        mode="constant",
        decision_reason="[not] significant",
        objective_weights=spec.outcome_weights({"conversions": 1}),
        validation=validate_log(log, spec),
    )
    out = io.StringIO()
    print_summary(result, Console(file=out, width=40))
    lines = out.getvalue().splitlines()
    assert (
        "objective: conversions 1, engagement_rate 0, follower_growth 0, retention_30d 0" in lines
    )
    assert "quarantined 3 of 300 rows (1.0%):" in lines
    assert any(
        line.startswith("  - column 'industry': 3 rows have unknown categories ['crypto']")
        for line in lines
    )
    assert "[not]" in out.getvalue()  # reasons are text, not rich markup


def test_summary_prints_validation_warnings() -> None:
    # issue 12: a silent conversion is said on the console of `engage train` too
    import io

    from rich.console import Console

    from engage.training.pipeline import TrainResult

    log = SimulatedWorld("hard").simulate(300, seed=1)
    log["innovation"] = log["innovation"] > 0.5
    spec = load_spec()
    result = TrainResult(
        run_id="r",
        experiment_id="1",
        tracking_uri="sqlite:///x.db",
        policy=None,
        metrics={},
        values={},
        mode="constant",
        decision_reason="",
        objective_weights=spec.outcome_weights(),
        validation=validate_log(log, spec),
    )
    out = io.StringIO()
    print_summary(result, Console(file=out, width=40))
    assert (
        "warning: column 'innovation': 300 rows have a boolean (True/False) read as 1/0"
        in out.getvalue()
    )


def test_summary_names_the_report_artifact_and_its_file() -> None:
    """The summary says where the run's report page is: its artifact path, and the file itself
    on a local store (the URI on a remote one)."""
    import io

    from rich.console import Console

    from engage.reporting.summary import REPORT_ARTIFACT, report_line
    from engage.training.pipeline import TrainResult
    from engage.training.report.artifacts import ARTIFACT_DIR

    assert f"{ARTIFACT_DIR}/report.html" == REPORT_ARTIFACT  # where log_report puts it
    result = TrainResult(
        run_id="abc",
        experiment_id="1",
        tracking_uri="sqlite:///x.db",
        policy=None,
        metrics={},
        values={"learned": {"dr": (1.0, 0.5, 1.5)}},
        mode="constant",
        decision_reason="why",
        objective_weights={"conversions": 1.0},
        artifact_uri="/data/mlruns/artifacts/1/abc/artifacts",
        ui_page="http://127.0.0.1:5000/#/experiments/1/runs/abc?workflowType=machine_learning",
    )
    out = io.StringIO()
    print_summary(result, Console(file=out, width=40))
    # the run in MLflow's UI, on one line however narrow the terminal, opened on the runs view
    assert f"in MLflow's UI: {result.ui_page}" in out.getvalue().splitlines()
    assert (
        "report: artifact report/report.html of run abc: "
        "/data/mlruns/artifacts/1/abc/artifacts/report/report.html"
    ) in out.getvalue().splitlines()
    assert report_line("abc", "file:///data/a%20b/artifacts") == (
        "report: artifact report/report.html of run abc: /data/a b/artifacts/report/report.html"
    )
    assert report_line("abc", "mlflow-artifacts:/1/abc/artifacts/") == (
        "report: artifact report/report.html of run abc: "
        "mlflow-artifacts:/1/abc/artifacts/report/report.html"
    )
    assert report_line("abc", "") == "report: artifact report/report.html of run abc"
