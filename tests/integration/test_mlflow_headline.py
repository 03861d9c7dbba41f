"""MLflow as a data team reads it: headline figures found first, artifacts comparable across
runs, and no dataset-source warning during a training (real runs in a temporary store)."""

from __future__ import annotations

import warnings

import mlflow
import pytest
from mlflow import MlflowClient

from engage.training.pipeline import train
from engage.training.tracking import HEADLINE_ARTIFACT, INTEGER_HINT
from tests.conftest import sim_oracle, train_settings

pytestmark = pytest.mark.slow

HEADLINE = {
    "shipped_dr",
    "shipped_dr_low",
    "shipped_dr_high",
    "shipped_range_low",
    "shipped_range_high",
    "gain_vs_logged",
    "gain_vs_logged_low",
    "gain_vs_logged_high",
    "learned_gain_vs_best_constant",
    "learned_gain_vs_best_constant_low",
    "learned_gain_vs_best_constant_high",
    "personalized",
    "rows_train",
    "rows_eval",
    "total_s",
    "r2.conversions",
    "r2.engagement_rate",
    "r2.follower_growth",
    "r2.retention_30d",
}


@pytest.fixture(scope="module")
def second_run(mlflow_store, tmp_path_factory):
    """Another small run (its own log, with integer columns as real files have, and its own
    model name), its warnings recorded."""
    from engage.simulation.world import SimulatedWorld, write_log

    log = SimulatedWorld("hard").simulate(4000, seed=5)
    log[["followers", "employees"]] = log[["followers", "employees"]].round().astype("int64")
    data = tmp_path_factory.mktemp("headline") / "campaigns.parquet"
    write_log(log, data, world={"difficulty": "hard", "decisions": "full", "seed": 5, "rows": 4000})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = train(
            train_settings(data, mlflow_store, seed=1, model_name="headline-test"),
            oracle=sim_oracle(data),
        )
    return result, [str(w.message) for w in caught]


def test_a_training_prints_no_avoidable_mlflow_warning(second_run) -> None:
    _, caught = second_run
    assert not [m for m in caught if "interpreted in multiple ways" in m], caught
    assert not [m for m in caught if INTEGER_HINT in m], caught  # the log has integer columns


def test_both_runs_have_the_headline_metrics(trained, second_run) -> None:
    runs = mlflow.search_runs(
        experiment_ids=[trained.experiment_id],
        filter_string=f"attributes.run_id IN ('{trained.run_id}', '{second_run[0].run_id}')",
    )
    assert len(runs) == 2
    columns = {
        c.removeprefix("metrics.headline.")
        for c in runs.columns
        if c.startswith("metrics.headline.")
    }
    assert columns >= HEADLINE, sorted(HEADLINE - columns)
    for _, row in runs.iterrows():
        assert row["metrics.headline.shipped_dr"] == row["metrics.ope.shipped.dr"]
        # the figures the decision was made on (issue 30: they were the held-out rows')
        for end in ("", "_low", "_high"):
            assert (
                row[f"metrics.headline.gain_vs_logged{end}"]
                == row[f"metrics.decision.gain_vs_logged{end}"]
            )
            assert (
                row[f"metrics.headline.learned_gain_vs_best_constant{end}"]
                == row[f"metrics.decision.gain_vs_constant{end}"]
            )
        assert row["metrics.headline.rows_train"] + row["metrics.headline.rows_eval"] == 4000
        assert row["metrics.headline.r2.conversions"] == row["metrics.eval.conversions.r2"]
        assert row["metrics.headline.total_s"] > 0
        assert "metrics.ope.learned.ips" in runs.columns  # every other metric is still there


def _root_files(client: MlflowClient, run_id: str) -> set[str]:
    return {f.path for f in client.list_artifacts(run_id) if not f.is_dir}


def test_runs_share_root_artifacts_for_the_compare_view(trained, second_run) -> None:
    # MLflow's compare view shows the files (not folders) at the root that every run has
    client = MlflowClient()
    common = _root_files(client, trained.run_id) & _root_files(client, second_run[0].run_id)
    assert HEADLINE_ARTIFACT in common
    figures = mlflow.artifacts.load_dict(f"runs:/{second_run[0].run_id}/{HEADLINE_ARTIFACT}")
    assert set(figures) == HEADLINE
    assert figures["shipped_dr"] == second_run[0].metrics["ope.shipped.dr"]
    # the folders hold the same paths in both runs too (no run-specific names)
    for folder in ("plots", "validation", "report"):
        first = {f.path for f in client.list_artifacts(trained.run_id, folder)}
        second = {f.path for f in client.list_artifacts(second_run[0].run_id, folder)}
        assert first and first == second, (folder, first ^ second)


def test_the_summary_headline_metrics_report_and_reason_read_one_set_of_numbers(
    second_run,
) -> None:
    """The gate's estimates, on every clean row, are the only figures a run shows: the ship
    reason, the MLflow metrics and headline, the report's headline and the printed summary."""
    from io import StringIO

    from rich.console import Console

    from engage.ope import Estimate
    from engage.reporting.summary import print_summary
    from engage.training.gate.decision import SHIPPED_KEY
    from engage.training.gate.reasons import said

    result = second_run[0]
    m, shipped = result.metrics, SHIPPED_KEY[result.mode]
    assert m["gate.rows"] == len(result.validation.clean) == 4000  # every clean row
    for end in ("", "_low", "_high"):
        gate = m[f"gate.gain_vs_logged.{shipped}{end}"]
        assert m[f"headline.gain_vs_logged{end}"] == gate
        assert m[f"policy.dr_gain_vs_logged.{shipped}{end}"] == gate
        assert m[f"headline.learned_gain_vs_best_constant{end}"] == m[f"gate.gain_vs_constant{end}"]
    dr = result.values["shipped"]["dr"]
    assert (m["headline.shipped_dr"], m["ope.shipped.dr_low"], m["ope.shipped.dr_high"]) == dr
    # the reason quotes the gate's gains, as the metrics hold them
    for name in ("learned", "best_constant"):
        key = f"gate.gain_vs_logged.{name}"
        assert said(Estimate(m[key], m[f"{key}_low"], m[f"{key}_high"])) in result.decision_reason
    # the report's headline (the run's note) and the printed summary show the same value
    note = MlflowClient().get_run(result.run_id).data.tags["mlflow.note.content"]
    assert f"DR value of the shipped policy: {dr[0]:.4g}" in note
    out = StringIO()
    print_summary(result, Console(file=out, width=200))
    assert f"{dr[0]:.3f}" in out.getvalue()
