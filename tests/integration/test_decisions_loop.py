"""The closed loop end to end: serve the trained champion with exploration, record decisions,
post outcomes the simulated world draws, export, then ``engage validate`` and ``engage train``
read the export unchanged and training values policies with the recorded propensities; the
served mix and cadence are explored too, and ``engage evaluate`` values the full action from
the recorded densities."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from engage.cli import main
from engage.contract.spec import load_spec
from engage.decisions.export import export_decisions
from engage.decisions.settings import DecisionSettings
from engage.serving.app import create_app
from engage.serving.settings import ServeSettings
from engage.simulation.world import Actions, SimulatedWorld
from tests.conftest import TEST_MODEL, train_settings

pytestmark = pytest.mark.slow


def test_export_validates_and_trains_with_recorded_propensities(
    champion_uri, mlflow_store, tmp_path: Path
):
    world = SimulatedWorld("hard")
    profiles = world.sample_profiles(3000, np.random.default_rng(11))
    app = create_app(
        ServeSettings(model_uri=champion_uri, reload_interval_s=0, max_batch=500),
        DecisionSettings(url=f"sqlite:///{tmp_path / 'decisions.db'}"),
    )
    rng = np.random.default_rng(12)
    with TestClient(app) as client:
        ids, served = [], []
        records = profiles.to_dict("records")
        for start in range(0, len(records), 500):
            r = client.post(
                "/v1/recommendations/batch",
                json={
                    "profiles": records[start : start + 500],
                    "top_k": 1,
                    "explain": False,
                    "exploration": {"method": "epsilon", "epsilon": 0.5, "full": True},
                },
            )
            assert r.status_code == 200, r.text[:500]
            for item in r.json()["results"]:
                rec = item["recommendations"][0]
                ids.append(item["decision_id"])
                served.append(
                    {
                        "style": rec["style"],
                        **{f"mix_{k}": v for k, v in rec["posting_mix"].items()},
                        "posts_per_week": rec["decisions"]["posts_per_week"],
                    }
                )
        truth = world.expected_outcomes(profiles, Actions.from_frame(pd.DataFrame(served)))
        names = ["conversions", "engagement_rate", "follower_growth", "retention_30d"]
        observed = world._observe(truth[names].to_numpy(), profiles, rng)
        for did, values in zip(ids, observed, strict=True):
            outcomes = dict(zip(names, map(float, values), strict=True))
            r = client.post("/v1/outcomes", json={"decision_id": did, "outcomes": outcomes})
            assert r.status_code == 200, r.text
        writer = app.state.decisions
        assert writer.flush(30)
        assert app.state.metrics.registry.get_sample_value("engage_decisions_written_total") == 3000
        export = export_decisions(writer.store, load_spec(), tmp_path / "decisions.parquet")
    assert export.rows == export.complete == 3000
    exported = pd.read_parquet(export.log)
    probabilities = exported["logged_propensity"]
    assert probabilities.min() >= 0.1 - 1e-12 and (probabilities < 1).all()
    # full-action exploration: every decision carries its draw's density and parameters
    assert (exported["logged_propensity_density"] > 0).all()
    assert (exported["logged_propensity_half_width_posts_per_week"] > 0).all()
    # and names the model version that served it
    assert exported["logged_propensity_served_by"].str.fullmatch(rf"{TEST_MODEL}/\d+").all()

    assert main(["validate", "--data", str(export.log), "--spec", str(export.spec)]) == 0
    result = _train(export.log, export.spec, mlflow_store)
    run = mlflow.get_run(result.run_id)
    assert run.data.params["ope_propensity"] == "logged"

    # a retrained version is compared with the champion on the rows the champion served (rows
    # it never trained on): here, as if version 1 of loop-policy had served them
    assert result.promotion_reason == "no champion yet"
    relabelled = tmp_path / "served-by-v1.parquet"
    exported.assign(logged_propensity_served_by=f"loop-policy/{result.version}").to_parquet(
        relabelled, index=False
    )
    again = _train(relabelled, export.spec, mlflow_store)
    assert "evaluation rows it served (rows it never trained on)" in again.promotion_reason

    # the retrained model against the champion, on the recorded decisions
    candidate = f"models:/loop-policy/{result.version}"
    assert (
        main(
            [
                "evaluate",
                "--model-uri",
                candidate,
                "--data",
                str(export.log),
                "--champion-uri",
                champion_uri,
                "--n-boot",
                "50",
            ]
        )
        == 0
    )
    runs = mlflow.search_runs(
        experiment_ids=[run.info.experiment_id],
        filter_string="tags.`engage.run_kind` = 'evaluation'",
    )
    assert len(runs) == 1
    row = runs.iloc[0]
    for policy in ("shipped", "champion"):
        for est in ("ips", "snips", "dr"):
            assert row[f"metrics.ope.{policy}.{est}_low"] <= row[f"metrics.ope.{policy}.{est}"]
            assert row[f"metrics.ope.{policy}.{est}"] <= row[f"metrics.ope.{policy}.{est}_high"]
        for est in ("kips", "ksnips", "kdr"):  # the full action, from the recorded densities
            assert row[f"metrics.ope.{policy}.{est}_low"] <= row[f"metrics.ope.{policy}.{est}"]
            assert row[f"metrics.ope.{policy}.{est}"] <= row[f"metrics.ope.{policy}.{est}_high"]
        # the range holds the DR value and at least its interval
        assert row[f"metrics.ope.{policy}.range"] == row[f"metrics.ope.{policy}.dr"]
        assert row[f"metrics.ope.{policy}.range_low"] <= row[f"metrics.ope.{policy}.dr_low"]
        assert row[f"metrics.ope.{policy}.range_high"] >= row[f"metrics.ope.{policy}.dr_high"]
    observed = probabilities.index.size and row["metrics.ope.logged.observed"]
    assert np.isfinite(observed)


def _train(data: Path, spec: Path, store: Path):
    from engage.training.pipeline import train

    settings = train_settings(
        data,
        store,
        spec=spec,
        experiment="engage-loop",
        model_name="loop-policy",
    )
    return train(settings)
