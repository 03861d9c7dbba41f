"""``/docs`` and ``/redoc`` work without internet: every asset they load comes from the app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from engage.serving import schemas
from engage.serving.app import create_app
from engage.serving.settings import ServeSettings

ASSET_URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
ABSOLUTE_URL = re.compile(r"""(?:https?:)?//[\w.-]+""")
CONTENT_TYPES = {".js": "javascript", ".css": "text/css", ".png": "image/png"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    """An app without a model: the documentation pages need none."""
    app = create_app(ServeSettings(model_uri="/nonexistent", reload_interval_s=0, startup_wait_s=0))
    with TestClient(app) as c:
        yield c


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_pages_reference_only_their_own_origin(client: TestClient, page: str) -> None:
    response = client.get(page)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert ABSOLUTE_URL.findall(response.text) == []
    assets = ASSET_URL.findall(response.text)
    assert any(url.endswith(".js") for url in assets)
    for url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, url
        assert url.startswith("/"), url


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_every_asset_of_the_docs_pages_is_served(client: TestClient, page: str) -> None:
    assets = ASSET_URL.findall(client.get(page).text)
    assert assets
    for url in assets:
        response = client.get(url)
        assert response.status_code == 200, url
        expected = CONTENT_TYPES[url[url.rfind(".") :]]
        assert expected in response.headers["content-type"], (url, response.headers)
        assert len(response.content) > 1000, url


def test_swagger_ui_loads_the_served_spec(client: TestClient) -> None:
    response = client.get("/docs")
    assert response.status_code == 200
    assert "'/openapi.json'" in response.text or '"/openapi.json"' in response.text
    assert client.get("/docs/oauth2-redirect").status_code == 200


def test_the_docs_pages_are_not_in_the_spec(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert not any(p.startswith(("/docs", "/redoc", "/static")) for p in paths)


@pytest.mark.parametrize(
    "model",
    [
        schemas.RecommendationResponse,
        schemas.BatchRecommendationResponse,
        schemas.ModelInfo,
    ],
)
def test_response_examples_are_valid_answers(model: type[schemas.BaseModel]) -> None:
    examples = model.model_json_schema()["examples"]
    assert examples
    for example in examples:
        model.model_validate(example)


def test_the_spec_shows_a_realistic_recommendation(client: TestClient) -> None:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    components = response.json()["components"]["schemas"]
    example = components["RecommendationResponse"]["examples"][0]
    first = example["recommendations"][0]
    assert first["rank"] == 1
    assert first["style"] == example["explanation"]["chosen_style"]
    assert sum(first["posting_mix"].values()) == pytest.approx(1.0)
    explanation = example["explanation"]
    listed = sum(f["contribution"] for f in explanation["factors"])
    assert listed + explanation["other_factors"] == pytest.approx(explanation["score_difference"])
    assert "examples" in components["ModelInfo"]
