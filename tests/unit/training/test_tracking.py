"""Dataset logging: a digest over every row, and a schema MLflow can show, without full scans."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd
import pytest

from engage.training.tracking import frame_digest, log_dataset


def frame(rows: int = 12_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "industry": rng.choice(["retail", "software"], rows),
            "followers": rng.integers(10, 10_000, rows).astype(float),
            "conversions": rng.normal(size=rows),
        }
    )


def test_digest_covers_every_row_and_column_name():
    df = frame()
    assert frame_digest(df) == frame_digest(df.copy())
    late = df.copy()
    late.loc[11_500, "followers"] += 1  # past the 10,000 rows MLflow's own digest reads
    assert frame_digest(late) != frame_digest(df)
    assert frame_digest(df.rename(columns={"conversions": "sales"})) != frame_digest(df)
    assert len(frame_digest(df)) == 16


def test_logged_dataset_has_digest_schema_and_rows(mlflow_store):
    df = frame()
    mlflow.set_experiment("engage-tests")
    with mlflow.start_run() as run:
        digest = log_dataset(df, "campaigns.parquet", "campaigns.parquet:train", "training")
    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    logged = inputs[0].dataset
    assert logged.digest == digest == frame_digest(df)
    assert logged.name == "campaigns.parquet:train"
    columns = [c["name"] for c in json.loads(logged.schema)["mlflow_colspec"]]
    assert columns == list(df.columns)
    assert json.loads(logged.profile)["num_rows"] == len(df)
    assert [t.value for t in inputs[0].tags if t.key == "mlflow.data.context"] == ["training"]


def test_a_versions_dr_value_tag_gives_the_range_when_the_run_has_one(monkeypatch) -> None:
    from engage.registry import models

    runs = {
        "new": {
            "ope.shipped.dr": 10.0,
            "ope.shipped.dr_low": 9.5,
            "ope.shipped.dr_high": 10.5,
            "ope.shipped.range_low": 9.2,
            "ope.shipped.range_high": 10.5,
        },
        "old": {"ope.shipped.dr": 10.0, "ope.shipped.dr_low": 9.5, "ope.shipped.dr_high": 10.5},
        "none": {},
    }

    class Client:
        def get_run(self, run_id):
            data = type("Data", (), {"metrics": runs[run_id]})()
            return type("Run", (), {"data": data})()

    monkeypatch.setattr(models, "MlflowClient", Client)
    assert models._dr_value_tag("new") == {models.DR_VALUE_TAG: "10 (95% interval 9.2 to 10.5)"}
    assert models._dr_value_tag("old") == {models.DR_VALUE_TAG: "10 (95% interval 9.5 to 10.5)"}
    assert models._dr_value_tag("none") == {} and models._dr_value_tag(None) == {}


@pytest.mark.parametrize("mode", ["personalized", "baseline", "constant"])
def test_the_headline_gains_are_the_decisions_whichever_mode_shipped(mode) -> None:
    # issue 30: the headline metrics carried the held-out gains while the decision's reason
    # gave the gate's; both are now the figures the decision was made on
    from engage.ope import Estimate
    from engage.training.gate import ShipDecision, decision_metrics
    from engage.training.tracking import headline_metrics

    gains = {
        name: Estimate(float(i), i - 1.0, i + 1.0)
        for i, name in enumerate(("learned", "baseline", "best_constant"))
    }
    decision = ShipDecision(mode, "why", 0, gains=gains, versus=Estimate(0.2, -0.1, 0.5))
    metrics = {
        **decision_metrics({"shipped": {"dr": (10.0, 9.5, 10.5)}}, decision),
        "ope.shipped.range_low": 9.0,
        "ope.shipped.range_high": 11.0,
        # the held-out figures, which the headline no longer reads
        **{f"policy.dr_gain_vs_logged.{name}": 99.0 for name in gains},
        "policy.dr_gain_vs_constant": 99.0,
    }
    head = headline_metrics(metrics)
    assert decision.gain is not None
    assert head["headline.gain_vs_logged"] == gains[decision.shipped].value
    assert head["headline.gain_vs_logged_low"] == gains[decision.shipped].low
    assert head["headline.learned_gain_vs_best_constant_high"] == 0.5
    assert (head["headline.shipped_range_low"], head["headline.shipped_range_high"]) == (9.0, 11.0)
    assert "headline.shipped_range" not in head  # its value is shipped_dr's
