"""The API tests' fixture model: the committed fixture policy (see ``tests/fixture_app.py``)."""

from __future__ import annotations

import pytest

from engage.serving.model import LoadedModel
from tests.fixture_app import load_fixture_model


@pytest.fixture(scope="session")
def fixture_model() -> LoadedModel:
    """The committed fixture policy, ready to serve (loaded once per test process)."""
    return load_fixture_model()
