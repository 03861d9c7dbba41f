"""The real ``engage serve`` process answers the example request over real HTTP."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import engage_serve

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = json.loads((REPO / "examples" / "recommendation_request.json").read_text())
READY_TIMEOUT_S = 60

pytestmark = pytest.mark.slow


@pytest.fixture
def server(champion_uri: str, tmp_path: Path) -> Iterator[str]:
    """``engage serve`` on a free loopback port; always terminated at teardown."""
    env = {**os.environ, "ENGAGE_SERVE_RELOAD_INTERVAL_S": "0", "ENGAGE_SERVE_ACCESS_LOG": "false"}
    with engage_serve(
        tmp_path, env, ["--model-uri", champion_uri], timeout_s=READY_TIMEOUT_S
    ) as base:
        yield base


def test_example_request_over_real_http(server):
    with httpx.Client(base_url=server, timeout=10) as client:
        r = client.post("/v1/recommendations", json=EXAMPLE)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {
            "recommendations",
            "explanation",
            "policy",
            "score_unit",
            "model",
            "decision_id",
            "fit",
        }
        assert body["recommendations"][0]["rank"] == 1
        assert abs(sum(body["recommendations"][0]["posting_mix"].values()) - 1) < 1e-6
        assert body["model"]["name"] == "test-policy"
        assert body["policy"]["mode"] in {"personalized", "constant", "baseline"}
        bad = client.post(
            "/v1/recommendations", json={"profile": {**EXAMPLE["profile"], "market": "b2g"}}
        )
        assert bad.status_code == 422
        assert bad.json()["error"]["details"][0]["field"] == "profile.market"
        metrics = client.get("/metrics")
        assert metrics.status_code == 200
        assert 'route="/v1/recommendations",status="200"' in metrics.text
