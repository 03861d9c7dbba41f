"""The one rule for which models may be served or exported, and the marks that feed it.

A model leaves the registry (``engage serve`` loads it, ``engage export-model`` copies it) only
if whatever logged it vouches that it was logged completely. :func:`resolve_model` applies the
rule to a model URI and says which exact model it means; both paths call it, so they accept and
refuse the same models, for the same reason:

- ``models:/NAME@ALIAS``, ``models:/NAME/VERSION``: refused when the version is tagged
  ``engage.incomplete=true``, or when its run is not ``FINISHED``, deleted or missing, or when
  it has no run at all (nothing vouches for it);
- ``models:/m-<id>`` (a logged model): refused when it is tagged ``engage.incomplete=true``, is
  not ``READY``, or its run fails the same run checks;
- ``runs:/RUN/...``: refused when the run fails them;
- anything else (an exported directory, a ``file:`` URI) carries no run to check: it passed the
  rule when it was exported.

A run that is ``RUNNING`` was killed or is still going; ``FAILED`` and ``KILLED`` ones stopped
early (the next training marks a killed run ``FAILED``: :mod:`engage.registry.runs`). Only
"does not exist" answers from the store count as missing: an unreachable store raises.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException
from mlflow.store.artifact.utils.models import get_model_name_and_version

from engage.contract.redaction import redact
from engage.registry.uris import parse_registered_uri

FINISHED = "FINISHED"
#: version tags: the run behind the version was seen FINISHED / was found not to have finished
RUN_STATUS_TAG = "engage.run_status"
INCOMPLETE_TAG = "engage.incomplete"
INCOMPLETE_REASON_TAG = "engage.incomplete_reason"
_MISSING = "RESOURCE_DOES_NOT_EXIST"


@dataclass(frozen=True)
class ResolvedModel:
    """The exact model a URI means now, and why it may not leave the registry (or None).

    ``load_uri`` pins an alias to the version it resolved to, so the model loaded or exported
    is the one the rule was applied to even if the alias moves meanwhile.
    """

    uri: str
    load_uri: str
    refusal: str | None = None
    name: str | None = None
    version: str | None = None
    run_id: str | None = None


def run_refusal(client: MlflowClient, run_id: str | None) -> str | None:
    """Why the run behind a model cannot vouch for it, or None when it ``FINISHED``."""
    if not run_id:
        return "it has no source run (nothing vouches that it was logged completely)"
    try:
        run = client.get_run(run_id)
    except MlflowException as exc:
        if exc.error_code != _MISSING:
            raise
        return f"its run {run_id} does not exist"
    if run.info.lifecycle_stage != "active":
        return f"its run {run_id} is deleted"
    if run.info.status != FINISHED:
        return (
            f"its run {run_id}, which is {run.info.status}, not {FINISHED} (a training run that "
            "was killed, failed or is still going)"
        )
    return None


def version_refusal(client: MlflowClient, mv: Any) -> str | None:
    """Why a registered model version may not be served or exported, or None."""
    if mv.tags.get(INCOMPLETE_TAG) == "true":
        reason = mv.tags.get(INCOMPLETE_REASON_TAG, "")
        return f"version {mv.version} of {mv.name} is marked {INCOMPLETE_TAG}=true ({reason})"
    problem = run_refusal(client, mv.run_id)
    return None if problem is None else f"version {mv.version} of {mv.name}: {problem}"


def logged_model_refusal(client: MlflowClient, model_id: str) -> str | None:
    """Why a logged model (``models:/m-<id>``) may not be served or exported, or None."""
    model = client.get_logged_model(model_id)
    if model.tags.get(INCOMPLETE_TAG) == "true":
        reason = model.tags.get(INCOMPLETE_REASON_TAG, "")
        return f"logged model {model_id} is marked {INCOMPLETE_TAG}=true ({reason})"
    if str(model.status) != "READY":
        return f"logged model {model_id} is {model.status}, not READY (its logging did not finish)"
    problem = run_refusal(client, model.source_run_id)
    return None if problem is None else f"logged model {model_id}: {problem}"


def resolve_model(client: MlflowClient, uri: str) -> ResolvedModel:
    """The model ``uri`` means now, with the rule's verdict on it (see the module docstring).

    Raises:
        MlflowException: the URI names a model or version that does not exist, or the store
            could not be read.
    """
    if uri.startswith("runs:/"):
        run_id = uri.removeprefix("runs:/").split("/", 1)[0]
        problem = run_refusal(client, run_id)
        return ResolvedModel(
            uri, uri, None if problem is None else f"run {run_id}: {problem}", run_id=run_id
        )
    if not uri.startswith("models:/"):
        return ResolvedModel(uri, uri)
    try:
        resolved = get_model_name_and_version(client, uri)
    except MlflowException:
        unpromoted = _alias_missing(client, uri)  # asked only once the alias did not resolve
        if unpromoted is None:
            raise
        return ResolvedModel(uri, uri, unpromoted)
    if len(resolved) == 1:  # models:/<model id>: a logged model, not a registered version
        model_id = resolved[0]
        model = client.get_logged_model(model_id)
        return ResolvedModel(
            uri, uri, logged_model_refusal(client, model_id), run_id=model.source_run_id
        )
    name, version = resolved
    mv = client.get_model_version(name, str(version))
    return ResolvedModel(
        uri,
        f"models:/{name}/{mv.version}",
        version_refusal(client, mv),
        name,
        str(mv.version),
        mv.run_id,
    )


def _alias_missing(client: MlflowClient, uri: str) -> str | None:
    """For ``models:/NAME@ALIAS`` whose model has versions but no such alias (a run that found
    nothing confidently better is registered, not promoted): which version is the latest, why
    its run did not promote it, and how to use it anyway. None in every other case (the store
    then says what it says)."""
    parts = parse_registered_uri(uri)
    if parts is None or parts.alias is None:
        return None
    name, alias = parts.name, parts.alias
    try:
        if alias in client.get_registered_model(name).aliases:
            return None
        versions = model_versions(client, name)
        if not versions:
            return None
        latest = max(versions, key=lambda v: int(v.version))
        why = (
            client.get_run(latest.run_id).data.tags.get("promotion_reason")
            if latest.run_id
            else None
        )
    except MlflowException:
        return None
    said = f" ({redact(why)})" if why else ""
    return (
        f"no version of {name} is its {alias}: the latest, version {latest.version}, was "
        f"registered but not promoted{said}; to use it anyway, name it: "
        f"--model-uri models:/{name}/{latest.version}"
    )


def refusal(client: MlflowClient, uri: str) -> str | None:
    """Why the model behind ``uri`` may not be served or exported, or None when it may."""
    return resolve_model(client, uri).refusal


def model_versions(client: MlflowClient, name: str) -> list[Any]:
    """Every version of the registered model ``name`` (none when it does not exist)."""
    escaped = name.replace("'", "\\'")
    return list(client.search_model_versions(f"name='{escaped}'"))


def logged_model_id(mv: Any) -> str | None:
    """The id of the logged model a version was registered from, if any. (MLflow 3 registers
    ``models:/m-<id>`` as the version's source but does not always fill ``model_id``.)"""
    model_id = getattr(mv, "model_id", None)
    if model_id:
        return str(model_id)
    source = str(mv.source or "")
    return source.removeprefix("models:/") if source.startswith("models:/m-") else None


def mark_incomplete(client: MlflowClient, mv: Any, reason: str) -> None:
    """Tag a version whose run did not finish, and its logged model, so that no one serves,
    exports or compares against either."""
    tags = {INCOMPLETE_TAG: "true", INCOMPLETE_REASON_TAG: redact(reason)}
    for key, value in tags.items():
        client.set_model_version_tag(mv.name, str(mv.version), key, value)
    model_id = logged_model_id(mv)
    if model_id:
        try:
            client.set_logged_model_tags(model_id, tags)
        except MlflowException as exc:  # a version registered from a path has no logged model
            if exc.error_code != _MISSING:
                raise
