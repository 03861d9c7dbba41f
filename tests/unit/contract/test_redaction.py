"""Credentials in URIs and error texts are masked; where they point stays readable."""

from __future__ import annotations

import pytest

from engage.contract.redaction import redact


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("http://user:PW@mlflow:5000", "http://user:***@mlflow:5000"),
        ("postgresql://engage:s3cr%40t@db:5432/mlflow", "postgresql://engage:***@db:5432/mlflow"),
        ("https://TOKEN@host/path", "https://***@host/path"),
        (
            "cannot reach http://a:b@h:1/api (Max retries exceeded with url: http://a:b@h:1/x)",
            "cannot reach http://a:***@h:1/api (Max retries exceeded with url: http://a:***@h:1/x)",
        ),
        ("sqlite:///tmp/x.db?password=hunter2&mode=ro", "sqlite:///tmp/x.db?password=***&mode=ro"),
        ("http://host:5000/path", "http://host:5000/path"),
        ("s3:/user:pw@bucket/log.parquet", "s3:/user:***@bucket/log.parquet"),
        ("models:/engage-policy@champion", "models:/engage-policy@champion"),
        ("no uri here", "no uri here"),
    ],
)
def test_redact(text, want):
    assert redact(text) == want


def test_redact_accepts_any_object():
    assert redact(ValueError("http://u:p@h")) == "http://u:***@h"
