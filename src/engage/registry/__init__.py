"""The one MLflow boundary: the tracking store, which models may leave it, the champion alias,
and logging and loading the policy model.

- :mod:`.connection`: bounded HTTP retries against a tracking server, and its failures named;
- :mod:`.store`: the default tracking URI (``MLFLOW_TRACKING_URI``, else
  ``sqlite:///mlruns/mlflow.db``) and pointing a process at it;
- :mod:`.servable`: THE rule for which versions ``engage serve`` and ``engage export-model``
  accept (:func:`resolve_model`, :func:`refusal`), and the ``engage.incomplete`` mark;
- :mod:`.runs`: runs left ``RUNNING`` by a killed process, told from live ones; :mod:`.sweep`
  marks them ``FAILED`` and tags the versions of unfinished runs incomplete, before training;
- :mod:`.uris`: the grammar of ``models:/NAME@ALIAS`` and ``models:/NAME/VERSION``;
- :mod:`.alias`: the ``champion`` alias (aliases, never stages);
- :mod:`.models`: the pyfunc artifact, registration, loading.

Training, serving, batch scoring and the CLI reach MLflow's registry only through here;
``engage.training.tracking`` keeps the logging of a training run's params, tags and datasets.
"""

from engage.registry.alias import CHAMPION, champion, drop_champion, promote
from engage.registry.connection import bounded_mlflow_http, network_failure, server_address
from engage.registry.models import (
    DR_VALUE_TAG,
    dr_value_text,
    ensure_registered_model,
    load_model_object,
    load_registered_policy,
    log_policy_model,
    register,
)
from engage.registry.runs import mark_killed_runs, owner_tags
from engage.registry.servable import (
    FINISHED,
    INCOMPLETE_REASON_TAG,
    INCOMPLETE_TAG,
    RUN_STATUS_TAG,
    ResolvedModel,
    mark_incomplete,
    model_versions,
    refusal,
    resolve_model,
    run_refusal,
    version_refusal,
)
from engage.registry.store import (
    CLASSICAL_ML,
    DESCRIPTION_TAG,
    EXPERIMENT_KIND_TAG,
    ML_VIEW_QUERY,
    RegistryClient,
    StoreMissingError,
    configure_tracking,
    default_tracking_uri,
    experiment_page,
    open_store,
    redacted_values,
)
from engage.registry.sweep import mark_incomplete_versions, sweep_unfinished
from engage.registry.uris import RegisteredUri, parse_registered_uri, registered_name

__all__ = [
    "CHAMPION",
    "CLASSICAL_ML",
    "DESCRIPTION_TAG",
    "DR_VALUE_TAG",
    "EXPERIMENT_KIND_TAG",
    "ML_VIEW_QUERY",
    "FINISHED",
    "INCOMPLETE_REASON_TAG",
    "INCOMPLETE_TAG",
    "RUN_STATUS_TAG",
    "RegisteredUri",
    "RegistryClient",
    "ResolvedModel",
    "StoreMissingError",
    "bounded_mlflow_http",
    "champion",
    "configure_tracking",
    "experiment_page",
    "default_tracking_uri",
    "dr_value_text",
    "drop_champion",
    "ensure_registered_model",
    "load_model_object",
    "load_registered_policy",
    "log_policy_model",
    "mark_incomplete",
    "mark_incomplete_versions",
    "mark_killed_runs",
    "model_versions",
    "network_failure",
    "open_store",
    "parse_registered_uri",
    "owner_tags",
    "promote",
    "redacted_values",
    "refusal",
    "register",
    "registered_name",
    "resolve_model",
    "run_refusal",
    "server_address",
    "sweep_unfinished",
    "version_refusal",
]
