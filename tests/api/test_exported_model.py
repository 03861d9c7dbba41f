"""A model exported with ``engage export-model`` serves the same answers as the registry URI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engage.serving.app import create_app
from engage.serving.settings import ServeSettings
from engage.training.export import export_model

# API tests run against the session's trained model (trained once, ~15 s): the slow lane.
pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((REPO / "examples" / "recommendation_request.json").read_text())


def test_exported_directory_answers_like_the_registry(champion_uri, trained, tmp_path):
    exported = export_model(champion_uri, tmp_path / "exported")
    assert (exported / "MLmodel").exists()
    requests = [
        EXAMPLE,
        {"profile": {**EXAMPLE["profile"], "industry": "software", "market": "b2b"}, "top_k": 5},
    ]
    answers = {}
    for uri in (champion_uri, str(exported)):
        app = create_app(ServeSettings(model_uri=uri, reload_interval_s=0))
        with TestClient(app) as client:
            assert client.get("/readyz").status_code == 200
            answers[uri] = [client.post("/v1/recommendations", json=body) for body in requests]
            info = client.get("/v1/model").json()
        assert info["run_id"] == trained.run_id
        # a directory is shown by its last component only (no server paths in answers)
        assert info["uri"] == (uri if uri == champion_uri else "<path>/exported")
    for registry, directory in zip(answers[champion_uri], answers[str(exported)], strict=True):
        assert registry.status_code == 200
        assert directory.status_code == 200
        a, b = registry.json(), directory.json()
        assert a["model"]["run_id"] == b["model"]["run_id"]
        assert b["model"]["uri"] == "<path>/exported"
        assert b["model"]["version"] is None  # a directory has no registry version
        del a["model"], b["model"], a["decision_id"], b["decision_id"]
        assert a == b
