"""The ``champion`` alias: which version serves. Promotion moves an alias; stages are never used."""

from __future__ import annotations

from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

CHAMPION = "champion"


def champion(client: MlflowClient, name: str) -> Any | None:
    """The model version the ``champion`` alias points to, or None when there is none.

    Raises:
        MlflowException: the registry could not be read. (Only "no such model" or "no such
        alias" mean no champion: an unreachable store must not read as an empty one.)
    """
    try:
        model = client.get_registered_model(name)
    except MlflowException as exc:
        if exc.error_code == "RESOURCE_DOES_NOT_EXIST":
            return None
        raise
    version = model.aliases.get(CHAMPION)
    return None if version is None else client.get_model_version(name, str(version))


def promote(name: str, version: str | int, client: MlflowClient | None = None) -> None:
    """Point the ``champion`` alias of ``name`` at ``version``."""
    (client or MlflowClient()).set_registered_model_alias(name, CHAMPION, str(version))


def drop_champion(client: MlflowClient, name: str) -> None:
    """Remove the ``champion`` alias of ``name`` (no model is then the champion)."""
    client.delete_registered_model_alias(name, CHAMPION)
