"""Before a training run: what killed or older runs left behind is marked, and loses the alias.

1. runs left ``RUNNING`` by a killed process are marked ``FAILED`` (:mod:`.runs` says how a
   killed run is told from a live one);
2. every version of the model whose run is not ``FINISHED`` is tagged
   ``engage.incomplete=true`` (with the reason), and so is its logged model; versions already
   known complete (tagged ``engage.run_status=FINISHED`` at registration or by an earlier
   sweep) are not looked at again;
3. the ``champion`` alias is taken off an incomplete version.

Versions are tagged, not deleted: deleting is irreversible and the registry is an audit trail.
Serving and export refuse such versions whether or not a sweep has run
(:mod:`.servable`); the sweep makes the registry say so, and keeps them from being compared
against.
"""

from __future__ import annotations

from mlflow import MlflowClient

from engage.registry.alias import champion, drop_champion
from engage.registry.runs import mark_killed_runs
from engage.registry.servable import (
    FINISHED,
    INCOMPLETE_TAG,
    RUN_STATUS_TAG,
    mark_incomplete,
    model_versions,
    run_refusal,
)


def mark_incomplete_versions(client: MlflowClient, name: str) -> list[str]:
    """Steps 2 and 3 for the registered model ``name``: one note per finding."""
    notes = []
    for mv in model_versions(client, name):
        if mv.tags.get(RUN_STATUS_TAG) == FINISHED or INCOMPLETE_TAG in mv.tags:
            continue
        problem = run_refusal(client, mv.run_id)
        if problem is None:
            client.set_model_version_tag(name, mv.version, RUN_STATUS_TAG, FINISHED)
            continue
        mark_incomplete(client, mv, problem)
        notes.append(f"version {mv.version} of {name} marked {INCOMPLETE_TAG}=true: {problem}")
    current = champion(client, name)  # read after the marking: its tags are current
    if current is not None and current.tags.get(INCOMPLETE_TAG) == "true":
        drop_champion(client, name)
        notes.append(
            f"THE CHAMPION ALIAS POINTED AT INCOMPLETE VERSION {current.version} of {name}: "
            "alias removed; it will not be compared against or served"
        )
    return notes


def sweep_unfinished(client: MlflowClient, experiment: str, model_name: str | None) -> list[str]:
    """Steps 1 to 3 for ``experiment``'s runs and the model ``model_name`` (None: runs only).

    Raises:
        MlflowException: the store could not be read or written.
    """
    found = client.get_experiment_by_name(experiment)
    notes = [] if found is None else mark_killed_runs(client, found.experiment_id)
    if model_name is not None:
        notes += mark_incomplete_versions(client, model_name)
    return notes
