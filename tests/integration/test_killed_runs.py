"""A run left RUNNING by a SIGKILLed process is marked FAILED by the next training; a live
one, another host's and an untagged one are left alone.

Each "training" here is a real process that starts its MLflow run as ``engage train`` does
(with :func:`engage.registry.owner_tags`), prints the run id and sleeps; one is SIGKILLed.
The next training's first step (:func:`engage.training.promotion.sweep_unfinished`) then runs
against the session's temporary store.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from engage import registry
from engage.registry.runs import HOST_TAG, KILLED_TAG, PID_TAG
from engage.training.promotion import sweep_unfinished
from tests.conftest import train_settings

pytestmark = pytest.mark.slow

EXPERIMENT = "engage-killed-runs"
TRAINING = """
import sys, time
import mlflow
from engage.registry import owner_tags
mlflow.set_tracking_uri(sys.argv[1])
with mlflow.start_run(experiment_id=sys.argv[2], tags=owner_tags()) as run:
    print(run.info.run_id, flush=True)
    time.sleep(300)
"""


@pytest.fixture
def experiment(mlflow_store: Path) -> str:
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    found = mlflow.get_experiment_by_name(EXPERIMENT)
    if found is not None:
        return found.experiment_id
    return mlflow.create_experiment(
        EXPERIMENT, artifact_location=(mlflow_store / "killed").as_uri()
    )


@pytest.fixture
def trainings(experiment: str) -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=30)


def start_training(
    experiment: str, started: list[subprocess.Popen[str]]
) -> tuple[subprocess.Popen[str], str]:
    args = [sys.executable, "-c", TRAINING, os.environ["MLFLOW_TRACKING_URI"], experiment]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    started.append(proc)
    run_id = proc.stdout.readline().strip()  # type: ignore[union-attr]
    assert run_id, f"the training process ended (code {proc.poll()}) before starting its run"
    return proc, run_id


def test_the_next_training_marks_a_killed_runs_run_failed_and_nothing_else(
    experiment, trainings, sim_log
):
    client = MlflowClient()
    killed, killed_run = start_training(experiment, trainings)
    _, live_run = start_training(experiment, trainings)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    assert client.get_run(killed_run).info.status == "RUNNING"  # MLflow never hears of the kill
    elsewhere = client.create_run(
        experiment, tags={HOST_TAG: "another-host", PID_TAG: str(killed.pid)}
    )
    untagged = client.create_run(experiment)

    notes = sweep_unfinished(
        train_settings(sim_log, Path("unused"), experiment=EXPERIMENT, register_model=False)
    )

    run = client.get_run(killed_run)
    assert run.info.status == "FAILED"
    assert f"its process {killed.pid} on " in run.data.tags[KILLED_TAG]
    assert run.info.end_time is not None
    assert [n for n in notes if killed_run in n] == [
        f"run {killed_run} was left RUNNING and marked FAILED: {run.data.tags[KILLED_TAG]}"
    ]
    for other in (live_run, elsewhere.info.run_id, untagged.info.run_id):
        assert client.get_run(other).info.status == "RUNNING", other
        assert KILLED_TAG not in client.get_run(other).data.tags
        assert not any(other in n for n in notes)
    # and a served or exported model of the killed run is refused, saying it FAILED
    assert "which is FAILED, not FINISHED" in str(registry.run_refusal(client, killed_run))
