"""A model whose versions were registered but none promoted: asking for its champion says which
version is the latest, why its run did not promote it, and how to name it (a first run whose
model the plausibility gate refused leaves no champion)."""

from __future__ import annotations

from mlflow import MlflowClient

from engage.registry import CHAMPION
from engage.registry.servable import resolve_model

REASON = (
    "refused by the plausibility gate: the shipped policy's DR 1e+09 is outside the outcomes' "
    "observed range"
)


def _version(client: MlflowClient, name: str, reason: str) -> str:
    experiment = client.get_experiment_by_name("engage-tests").experiment_id
    run = client.create_run(experiment, tags={"promotion_reason": reason})
    client.set_terminated(run.info.run_id)
    return client.create_model_version(
        name, f"runs:/{run.info.run_id}/model", run_id=run.info.run_id
    ).version


def test_no_champion_names_the_latest_version_and_why(mlflow_store) -> None:
    client, name = MlflowClient(), "unpromoted-model"
    client.create_registered_model(name)
    _version(client, name, "an older reason")
    latest = _version(client, name, REASON)
    refused = resolve_model(client, f"models:/{name}@{CHAMPION}").refusal
    assert refused is not None
    assert f"version {latest}" in refused and REASON in refused
    assert f"--model-uri models:/{name}/{latest}" in refused
    # once a version is the champion, the alias resolves as before
    client.set_registered_model_alias(name, CHAMPION, latest)
    resolved = resolve_model(client, f"models:/{name}@{CHAMPION}")
    assert resolved.version == str(latest) and "not promoted" not in (resolved.refusal or "")
