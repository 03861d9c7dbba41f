"""What unauthenticated answers may show: credentials masked, absolute paths cut to a name."""

from __future__ import annotations

import pytest

from engage.serving.disclosure import public_text, strip_paths


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("cannot load /srv/a/b/policy: gone", "cannot load <path>/policy: gone"),
        ("no MLflow store at /srv/mlruns/mlflow.db", "no MLflow store at <path>/mlflow.db"),
        ("No such file: '/tmp/x/MLmodel'", "No such file: '<path>/MLmodel'"),
        ('at "/tmp/x/model/"', 'at "<path>/model"'),
        ("see ~/models/v3 now", "see <path>/v3 now"),
        ("sqlite:////srv/mlruns/mlflow.db failed", "<path>/mlflow.db failed"),
        ("file:///srv/exports/v2", "<path>/v2"),
        ("(/srv/x)", "(<path>/x)"),
        ("/", "/"),
    ],
)
def test_absolute_paths_are_cut_to_their_last_component(text, expected):
    assert strip_paths(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "models:/engage-policy@champion",
        "models:/engage-policy/3",
        "runs:/0123/policy",
        "http://mlflow:5000/api/2.0/mlflow/registered-models/alias",
        "1/3 of rows",
        "a / b",
    ],
)
def test_uris_and_fractions_are_not_paths(text):
    assert strip_paths(text) == text


def test_public_text_masks_credentials_and_paths():
    text = "API request to http://user:PW@host:5000/api failed; cache /var/lib/engage/cache"
    out = public_text(text)
    assert "PW" not in out
    assert "http://user:***@host:5000/api" in out
    assert out.endswith("cache <path>/cache")
