"""An app serving the committed fixture policy (``tests/fixtures/policy``, the current artifact
format) in process, with no training and no MLflow store: API tests on it run in the fast
lane. Tests that need a model in MLflow (registry identity, reloads, exports) use the
session's trained model (``tests/conftest.py``) and are marked slow."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from engage.policy.artifact import load_policy
from engage.serving.app import create_app
from engage.serving.model import LoadedModel
from engage.serving.settings import ServeSettings

REPO = Path(__file__).resolve().parents[1]
FIXTURE = REPO / "tests" / "fixtures" / "policy"
ADMIN_TOKEN = "t0ken-for-the-tests"


def load_fixture_model() -> LoadedModel:
    """The committed fixture policy, ready to serve."""
    return LoadedModel.from_policy(load_policy(FIXTURE), "tests/fixtures/policy")


def fixture_settings(tmp: Path, **overrides: Any) -> ServeSettings:
    """Settings whose own model never loads (its store does not exist): the app starts not
    ready, and tests install the fixture model, or test the not-ready app."""
    values: dict[str, Any] = {
        "model_uri": "models:/no-such-policy@champion",
        "tracking_uri": f"sqlite:///{tmp / 'no-store' / 'mlflow.db'}",
        "reload_interval_s": 0,
    }
    return ServeSettings(**{**values, **overrides})


@contextmanager
def serving(model: LoadedModel | None, tmp: Path, **overrides: Any) -> Iterator[TestClient]:
    """A started app (lifespan entered) serving ``model`` (None: no model)."""
    with TestClient(create_app(fixture_settings(tmp, **overrides))) as client:
        if model is not None:
            client.app.state.models.install(model)
        yield client
