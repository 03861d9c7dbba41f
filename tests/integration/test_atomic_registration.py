"""A killed ``engage train`` never leaves a served version of an unfinished run.

Each test SIGKILLs a real ``engage train`` process at one step of its ending (the test-only
pause points of :mod:`engage.training.killpoints`), then reads the registry: the alias has not
moved (but where the kill came after the move), every version belongs to a ``FINISHED`` run,
and the champion's run has every metric. The last test plants what older code left behind (a
champion on a version whose run is still ``RUNNING``, a version of a ``FAILED`` run) and checks
that the next run marks both, takes the alias off and does not compare against it, and that it
marks FAILED the run of a training SIGKILLed before it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from engage import registry
from engage.registry.runs import KILLED_TAG
from engage.training.export import export_model
from engage.training.killpoints import POINTS
from engage.training.pipeline import TrainingError, train
from tests.conftest import REPO, sim_oracle, train_settings

pytestmark = pytest.mark.slow

MODEL = "atomic-policy"
EXPERIMENT = "engage-tests"
RUN_TIMEOUT_S = 240  # one training of the small log takes ~15 s; a hung one fails the test
# train_settings' fast values: its settings as the CLI reads them from the environment, the
# session's small constants through tests.fast_cli (run from the repository's root)
FAST = {
    "ENGAGE_TRAIN_N_BOOT": "50",
    "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
}


def cli_env(**extra: str) -> dict[str, str]:
    """This process's environment without ENGAGE_* variables, plus the fast settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGAGE_")}
    return {**env, **FAST, **extra}


def start_train(model: str, tmp: Path, seed: int, pause_at: str | None = None) -> subprocess.Popen:
    """``engage train --force`` in a subprocess (--force: every run would move the alias)."""
    env = cli_env()
    if pause_at is not None:
        env.update(
            ENGAGE_TEST_HOOKS="1",
            ENGAGE_TEST_PAUSE_AT=pause_at,
            ENGAGE_TEST_PAUSE_MARKER=str(tmp / "paused"),
            ENGAGE_TEST_PAUSE_S=str(RUN_TIMEOUT_S),
        )
    args = [
        sys.executable,
        "-m",
        "tests.fast_cli",
        "train",
        "--data",
        str(tmp / "data.parquet"),
        "--experiment",
        EXPERIMENT,
        "--model-name",
        model,
        "--trials",
        "0",
        "--seed",
        str(seed),
        "--no-progress",
        "--force",
    ]
    with (tmp / "stdout.txt").open("w") as out, (tmp / "stderr.txt").open("w") as err:
        return subprocess.Popen(args, env=env, stdout=out, stderr=err)


def kill_when_paused(proc: subprocess.Popen, tmp: Path, point: str) -> None:
    """Wait for the marker of ``point`` (bounded), then SIGKILL the process."""
    marker, deadline = tmp / "paused", time.monotonic() + RUN_TIMEOUT_S
    try:
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(
                    f"engage train ended (code {proc.returncode}) before {point}:\n"
                    + (tmp / "stderr.txt").read_text()[-3000:]
                )
            if time.monotonic() > deadline:
                pytest.fail(f"engage train did not reach {point} within {RUN_TIMEOUT_S} s")
            time.sleep(0.2)
        assert marker.read_text() == point
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def versions(name: str) -> dict[str, object]:
    return {str(mv.version): mv for mv in registry.model_versions(MlflowClient(), name)}


def champion(name: str):
    return registry.champion(MlflowClient(), name)


def last_run(name: str):
    exp = mlflow.get_experiment_by_name(EXPERIMENT)
    runs = MlflowClient().search_runs(
        [exp.experiment_id],
        filter_string=f"params.model_name = '{name}'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
    )
    return runs[0]


def assert_no_served_version_of_an_unfinished_run(name: str) -> None:
    client = MlflowClient()
    for version, mv in versions(name).items():
        problem = registry.run_refusal(client, mv.run_id)
        assert problem is None or mv.tags.get(registry.INCOMPLETE_TAG) == "true", (version, problem)
    current = champion(name)
    if current is not None:
        assert registry.run_refusal(client, current.run_id) is None


@pytest.fixture(scope="module")
def baseline(mlflow_store, sim_log):
    """A complete champion of MODEL, trained in this process as the CLI would (with the
    simulated log's oracle): what each kill must not disturb."""
    result = train(
        train_settings(sim_log, mlflow_store, model_name=MODEL), oracle=sim_oracle(sim_log)
    )
    assert result.promoted and str(champion(MODEL).version) == result.version == "1"
    return result


@pytest.mark.parametrize("point", POINTS)
def test_kill_at_each_point_leaves_no_served_unfinished_version(
    point, baseline, sim_log, tmp_path
) -> None:
    os.symlink(sim_log, tmp_path / "data.parquet")
    champion_before, versions_before = str(champion(MODEL).version), set(versions(MODEL))
    proc = start_train(MODEL, tmp_path, seed=POINTS.index(point) + 1, pause_at=point)
    kill_when_paused(proc, tmp_path, point)

    killed = last_run(MODEL)
    new = sorted(set(versions(MODEL)) - versions_before, key=int)
    assert_no_served_version_of_an_unfinished_run(MODEL)
    if point in ("run_started", "model_logged", "before_finish"):
        assert killed.info.status == "RUNNING"  # killed mid-run: it never ends, never registers
        assert new == []
    else:  # the run had ended FINISHED, with every metric, before any version existed
        assert killed.info.status == "FINISHED"
        assert set(killed.data.metrics) == set(MlflowClient().get_run(baseline.run_id).data.metrics)
        assert len(new) == (0 if point == "run_finished" else 1)
    if point == "alias_moved":
        assert str(champion(MODEL).version) == new[0]
        assert champion(MODEL).run_id == killed.info.run_id
    else:
        assert str(champion(MODEL).version) == champion_before
    if new:
        assert versions(MODEL)[new[0]].run_id == killed.info.run_id
        assert versions(MODEL)[new[0]].tags[registry.RUN_STATUS_TAG] == "FINISHED"


def test_next_run_marks_unfinished_versions_and_takes_the_alias_off(
    baseline, mlflow_store, sim_log, tmp_path
) -> None:
    """What older code left when killed: the champion on a version of a RUNNING run with one
    metric, and a version of a FAILED run. The next run marks both, warns, does not compare
    against the broken champion and replaces it."""
    name, client = "unfinished-policy", MlflowClient()
    # a training SIGKILLed mid-run, whose run MLflow would show RUNNING forever (killed before
    # the planting below: its own sweep would mark what is planted)
    (killed_dir := tmp_path / "killed").mkdir()
    os.symlink(sim_log, killed_dir / "data.parquet")
    kill_when_paused(
        start_train(name, killed_dir, seed=7, pause_at="run_started"), killed_dir, "run_started"
    )
    killed = last_run(name)
    assert killed.info.status == "RUNNING"

    source = versions(MODEL)["1"].source  # a loadable model: only its run is unfinished
    exp_id = mlflow.get_experiment_by_name(EXPERIMENT).experiment_id
    running = client.create_run(exp_id, run_name="killed-after-alias-move")
    client.log_metric(running.info.run_id, "eval.conversions.r2", 0.1)
    failed = client.create_run(exp_id, run_name="failed-after-registration")
    client.set_terminated(failed.info.run_id, "FAILED")
    client.create_registered_model(name)
    v_failed = client.create_model_version(name, source, run_id=failed.info.run_id).version
    v_running = client.create_model_version(name, source, run_id=running.info.run_id).version
    client.set_registered_model_alias(name, registry.CHAMPION, v_running)

    os.symlink(sim_log, tmp_path / "data.parquet")
    env = cli_env()
    args = [
        sys.executable,
        "-m",
        "tests.fast_cli",
        "train",
        "--data",
        str(tmp_path / "data.parquet"),
        "--experiment",
        EXPERIMENT,
        "--model-name",
        name,
        "--trials",
        "0",
        "--no-progress",
    ]
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    assert done.returncode == 0, done.stderr[-3000:]

    for version, status in ((v_failed, "FAILED"), (v_running, "RUNNING")):
        tags = client.get_model_version(name, version).tags
        assert tags[registry.INCOMPLETE_TAG] == "true"
        assert status in tags[registry.INCOMPLETE_REASON_TAG]
    assert f"THE CHAMPION ALIAS POINTED AT INCOMPLETE VERSION {v_running}" in done.stderr
    # the killed training's run is marked FAILED; the planted RUNNING run has no recorded owner
    # (it might be alive anywhere) and is left as it is
    assert client.get_run(killed.info.run_id).info.status == "FAILED"
    assert "is gone" in client.get_run(killed.info.run_id).data.tags[KILLED_TAG]
    assert f"run {killed.info.run_id} was left RUNNING and marked FAILED" in done.stderr
    assert client.get_run(running.info.run_id).info.status == "RUNNING"
    new = last_run(name)
    assert "INCOMPLETE VERSION" in new.data.tags["registry_cleanup"]
    assert f"champion v{v_running}" not in new.data.tags["promotion_reason"]  # not compared
    assert new.data.tags["promoted"] == "true"
    assert champion(name).run_id == new.info.run_id
    assert "registered version 3: promoted to champion" in done.stdout
    assert_no_served_version_of_an_unfinished_run(name)
    # nor can such a version leave the registry as an exported directory
    with pytest.raises(TrainingError, match="RUNNING"):
        export_model(f"models:/{name}/{v_running}", tmp_path / "export", experiment=EXPERIMENT)
    assert export_model(
        f"models:/{name}@champion", tmp_path / "export", experiment=EXPERIMENT
    ).is_dir()
