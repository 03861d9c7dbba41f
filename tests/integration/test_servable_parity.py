"""``engage serve`` and ``engage export-model`` accept and refuse exactly the same models.

One parametrised test: for each state a model's run can be in (finished, running, failed,
killed and marked failed by the sweep, deleted, or the version tagged ``engage.incomplete``)
and each way of naming the model (alias, pinned version, logged model id, ``runs:/``), the
serving loader (what ``engage serve``, its reload route, ``engage recommend`` and batch scoring
load with) and the export are both asked; they give the same verdict, and a refusal says why
in both. The committed fixture policy is logged once into the session's temporary store.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from mlflow import MlflowClient

from engage import registry
from engage.policy.artifact import load_policy
from engage.registry.runs import KILLED_TAG
from engage.serving.model import ModelLoader, ModelLoadError
from engage.training.export import export_model
from engage.training.split import TrainingError

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
EXPERIMENT = "engage-servable-parity"
CASES = ("finished", "running", "failed", "killed", "deleted", "incomplete")
KINDS = ("alias", "version", "logged model", "run")
#: what a refusal must name, per case
WORDS = {
    "running": "which is RUNNING, not FINISHED",
    "failed": "which is FAILED, not FINISHED",
    "killed": "which is FAILED, not FINISHED",
    "deleted": "is deleted",
    "incomplete": "engage.incomplete=true",
}


@pytest.fixture(scope="module")
def logged(mlflow_store: Path):
    """The fixture policy logged in a finished run: ``(run id, logged model id)``."""
    mlflow.set_tracking_uri(os.environ["MLFLOW_TRACKING_URI"])
    if mlflow.get_experiment_by_name(EXPERIMENT) is None:
        mlflow.create_experiment(EXPERIMENT, artifact_location=(mlflow_store / "parity").as_uri())
    mlflow.set_experiment(EXPERIMENT)
    example = pd.read_parquet(FIXTURES / "snapshot_profiles.parquet").head(2)
    with mlflow.start_run() as run:
        info = registry.log_policy_model(load_policy(FIXTURES / "policy"), example)
    return run.info.run_id, info.model_id


def dead_owner_tags() -> dict[str, str]:
    """Owner tags of a process of this host that has since died (a SIGKILLed training)."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    tags = registry.owner_tags(child.pid)
    child.kill()
    child.wait(timeout=30)
    return tags


def make_case(case: str, logged) -> dict[str, str]:
    """A registered model ``parity-<case>`` whose champion is in state ``case``; its URIs by kind."""
    client = MlflowClient()
    exp_id = mlflow.get_experiment_by_name(EXPERIMENT).experiment_id
    run_id, model_id = logged
    if case != "finished":
        tags = dead_owner_tags() if case == "killed" else {}
        run_id = client.create_run(exp_id, tags=tags, run_name=f"parity-{case}").info.run_id
        model = client.create_logged_model(exp_id, name="policy", source_run_id=run_id)
        client.finalize_logged_model(model.model_id, "READY")
        model_id = model.model_id
        if case == "failed":
            client.set_terminated(run_id, "FAILED")
        if case in ("deleted", "incomplete"):
            client.set_terminated(run_id, "FINISHED")
        if case == "deleted":
            client.delete_run(run_id)
        if case == "killed":  # what the next training does first
            notes = registry.sweep_unfinished(client, EXPERIMENT, None)
            assert any(run_id in note for note in notes), notes
            run = client.get_run(run_id)
            assert run.info.status == "FAILED" and "is gone" in run.data.tags[KILLED_TAG]
    name = f"parity-{case}"
    client.create_registered_model(name)
    # the source as MLflow 3's registration writes it: the logged model's URI
    mv = client.create_model_version(name, f"models:/{model_id}", run_id=run_id, model_id=model_id)
    client.set_registered_model_alias(name, registry.CHAMPION, mv.version)
    if case == "incomplete":
        registry.mark_incomplete(client, mv, "marked by hand in a test")
    return {
        "alias": f"models:/{name}@{registry.CHAMPION}",
        "version": f"models:/{name}/{mv.version}",
        "logged model": f"models:/{model_id}",
        "run": f"runs:/{run_id}/policy",
    }


@pytest.fixture(scope="module")
def cases(logged) -> dict[str, dict[str, str]]:
    return {case: make_case(case, logged) for case in CASES}


def serve(uri: str) -> str | None:
    """The serving loader's verdict: None when it serves ``uri``, else its error."""
    try:
        loaded = ModelLoader(os.environ["MLFLOW_TRACKING_URI"]).load(uri)
    except ModelLoadError as exc:
        return str(exc)
    assert loaded.policy.spec.name
    return None


def export(uri: str, out: Path) -> str | None:
    """The export's verdict: None when it exports ``uri``, else its error."""
    try:
        exported = export_model(uri, out, experiment=EXPERIMENT)
    except TrainingError as exc:
        return str(exc)
    assert (exported / "MLmodel").is_file()
    return None


@pytest.mark.parametrize(
    ("case", "kind"),
    # the incomplete mark is on the version and its logged model; a run's artifacts are not
    # registered versions, and its run finished
    [(c, k) for c in CASES for k in KINDS if (c, k) != ("incomplete", "run")],
)
def test_serve_and_export_accept_and_refuse_the_same_models(cases, case, kind, tmp_path):
    uri = cases[case][kind]
    reason = registry.refusal(MlflowClient(), uri)
    served, exported = serve(uri), export(uri, tmp_path / "export")
    if case == "finished":
        assert reason is None and served is None and exported is None, (served, exported)
        return
    assert reason is not None and WORDS[case] in reason
    assert served is not None and reason in served, served
    assert exported is not None and reason in exported, exported
    assert not (tmp_path / "export").exists() or not any((tmp_path / "export").iterdir())
