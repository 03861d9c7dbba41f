"""``engage train --dask``: a real 2-worker LocalCluster trains on a partitioned simulated log,
registers a model of the single-machine kind, and that model recommends what the
single-machine model trained on the same rows recommends, as often as the single-machine model
agrees with itself trained with another seed.

Why not a fixed 95%: on 8,000 rows of the simulated world many profiles have near-tied
styles, and the single-machine model retrained with seed 1 instead of 0 recommends the same
style for only about 79% (hard world) to 81% (easy world) of 1,000 profiles (measured
2026-11-30). The Dask run differs from the single-machine one by as much as a seed does
(folds by hash, its own split cut, LightGBM's distributed histograms and bagging), so the bar
is that agreement, less 5 points. The 1M-row benchmark (benchmarks/scale.py) reports the
agreement at scale."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import lightgbm as lgb
import mlflow
import pytest
from fastapi.testclient import TestClient
from mlflow import MlflowClient

from engage.serving.app import create_app
from engage.serving.model import ModelLoader
from engage.serving.settings import ServeSettings
from engage.simulation.world import SimulatedWorld, write_log
from engage.training.pipeline import train
from engage.training.settings import TrainSettings
from tests.conftest import REPO, sim_oracle, train_settings

pytestmark = pytest.mark.slow

ROWS, PARTS = 8_000, 4
WORLD = {"difficulty": "hard", "decisions": "full", "seed": 5, "rows": ROWS}


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The same simulated rows as one Parquet file and as a folder of PARTS files."""
    root = tmp_path_factory.mktemp("dask_log")
    log = SimulatedWorld("hard").simulate(ROWS, seed=5)
    single = write_log(log, root / "campaigns.parquet", world=WORLD)
    folder = root / "parts"
    for i in range(PARTS):
        write_log(
            log.iloc[i::PARTS].reset_index(drop=True), folder / f"part-{i}.parquet", world=WORLD
        )
    return single, folder


@pytest.fixture(scope="module")
def runs(mlflow_store: Path, logs: tuple[Path, Path]):
    single, folder = logs
    on_one = train(
        train_settings(single, mlflow_store, model_name="dask-parity-single"),
        oracle=sim_oracle(single),
    )
    on_dask = train(
        train_settings(folder, mlflow_store, model_name="dask-parity-dask", dask="local"),
        oracle=sim_oracle(folder / "part-0.parquet"),
    )
    reseeded = train(
        train_settings(
            single, mlflow_store, model_name="dask-parity-seed", seed=1, register_model=False
        ),
        oracle=sim_oracle(single),
    )
    return on_one, on_dask, reseeded


def test_the_dask_run_states_its_samples_and_counts_every_row(runs) -> None:
    _, on_dask, _ = runs
    params = MlflowClient().get_run(on_dask.run_id).data.params
    assert params["rows_input"] == str(ROWS)
    assert int(params["rows_clean"]) + int(params["rows_quarantined"]) == ROWS
    assert params["dask.partitions"] == str(PARTS)
    assert params["dask.workers"] == "2"
    assert int(params["dask.sample_rows.train"]) == int(params["rows_train"])  # small: all rows
    assert int(params["rows_train"]) + int(params["rows_eval"]) == int(params["rows_clean"])
    assert params["split"] == "time"
    assert int(params["dask.outcome_rows"]) == int(params["rows_train"])
    fits = [f for f in on_dask.fit_log.fits if f["label"].startswith("outcome/")]
    assert fits and all(f["params"]["dask"] for f in fits)
    assert "regret.learned" in on_dask.metrics
    assert all(
        f"intervals.coverage.{o}" in on_dask.metrics for o in on_dask.policy.interval_model.outcomes
    )
    # both gates judge training rows too, chosen for by the fold models that did not see them
    for run in runs:
        assert run.metrics["gate.training_rows"] > 0
        assert run.metrics["gate.rows"] > run.metrics["gate.training_rows"]


def test_the_dask_model_is_the_single_machine_kind_and_recommends_the_same_styles(
    runs, mlflow_store: Path
) -> None:
    on_one, on_dask, reseeded = runs
    loader = ModelLoader(mlflow.get_tracking_uri())  # what `engage serve` loads models with
    one = loader.load(f"models:/dask-parity-single/{on_one.version}").policy
    dist = loader.load(f"models:/dask-parity-dask/{on_dask.version}").policy
    assert all(isinstance(b, lgb.Booster) for b in dist.outcome_models.values())
    assert type(dist) is type(one)
    # per-recommendation intervals that vary with the profile and action, on both paths
    assert one.interval_model is not None and dist.interval_model is not None
    assert dist.interval_model.outcomes == one.interval_model.outcomes
    profiles = SimulatedWorld("hard").simulate(1_000, seed=99)[one.spec.context_names]
    # the models compared as personalised policies at the same support floor: which mode and
    # floor the gate picks can flip between runs that differ by a seed (the agreement asked
    # for here is about the models, not about that decision)
    floor = TrainSettings.model_fields["min_propensity"].default
    style_one, style_dask, style_seed = (
        [
            a.recommendations[0].style
            for a in dataclasses.replace(p, mode="personalized", min_propensity=floor).recommend(
                profiles, top_k=1, explain=False
            )
        ]
        for p in (one, dist, reseeded.policy)
    )
    agreement = sum(a == b for a, b in zip(style_one, style_dask, strict=True)) / len(profiles)
    baseline = sum(a == b for a, b in zip(style_one, style_seed, strict=True)) / len(profiles)
    print(
        f"style agreement on 1,000 profiles: Dask vs single machine {agreement:.1%}; "
        f"single machine seed 0 vs seed 1 {baseline:.1%}"
    )
    assert agreement >= baseline - 0.05


@pytest.mark.parametrize("name", ["dask-parity-single", "dask-parity-dask"])
def test_both_models_serve_from_the_same_server(runs, name: str) -> None:
    on_one, on_dask, _ = runs
    version = on_one.version if name.endswith("single") else on_dask.version
    request = json.loads((REPO / "examples" / "recommendation_request.json").read_text())
    settings = ServeSettings(model_uri=f"models:/{name}/{version}", reload_interval_s=0)
    with TestClient(create_app(settings)) as client:
        response = client.post("/v1/recommendations", json=request)
    assert response.status_code == 200, response.text
    assert response.json()["recommendations"]
