"""``ServeSettings``: read from ENGAGE_SERVE_* variables, strict, documented in .env.example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from engage.serving.server import resolve_settings
from engage.serving.settings import ServeSettings, get_settings

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.startswith("ENGAGE_SERVE_"):
            monkeypatch.delenv(key)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_defaults(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.chdir(tmp_path)
    s = ServeSettings()
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.model_uri == "models:/engage-simulated_world@champion"
    assert s.tracking_uri == f"sqlite:///{tmp_path / 'mlruns' / 'mlflow.db'}"
    assert s.reload_interval_s == 30
    assert s.admin_token is None
    assert (s.max_batch, s.max_body_bytes, s.default_top_k) == (100, 1_048_576, 3)


def test_values_come_from_prefixed_environment(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////srv/mlruns/mlflow.db")
    monkeypatch.setenv("ENGAGE_SERVE_PORT", "9100")
    monkeypatch.setenv("ENGAGE_SERVE_MODEL_URI", "/models/policy")
    monkeypatch.setenv("ENGAGE_SERVE_RELOAD_INTERVAL_S", "0")
    monkeypatch.setenv("ENGAGE_SERVE_ADMIN_TOKEN", "s3cret-admin-token-2026")
    monkeypatch.setenv("ENGAGE_SERVE_MAX_BATCH", "7")
    s = ServeSettings()
    assert s.port == 9100
    assert s.model_uri == "/models/policy"
    assert s.tracking_uri == "sqlite:////srv/mlruns/mlflow.db"
    assert s.reload_interval_s == 0
    assert (
        s.admin_token is not None and s.admin_token.get_secret_value() == "s3cret-admin-token-2026"
    )
    assert "s3cret" not in repr(s)
    assert s.max_batch == 7


def test_own_tracking_variable_wins(monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////a.db")
    monkeypatch.setenv("ENGAGE_SERVE_TRACKING_URI", "sqlite:////b.db")
    assert ServeSettings().tracking_uri == "sqlite:////b.db"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("ENGAGE_SERVE_PORT", "eighty"),
        ("ENGAGE_SERVE_PORT", "0"),
        ("ENGAGE_SERVE_RELOAD_INTERVAL_S", "-1"),
        ("ENGAGE_SERVE_MAX_BATCH", "0"),
        ("ENGAGE_SERVE_DEFAULT_TOP_K", "50"),
        ("ENGAGE_SERVE_PROT", "8000"),
    ],
)
def test_bad_or_unknown_variables_are_errors(monkeypatch, key, value):
    monkeypatch.setenv(key, value)
    with pytest.raises(ValidationError):
        ServeSettings()


def test_settings_are_read_once(monkeypatch):
    monkeypatch.setenv("ENGAGE_SERVE_PORT", "9001")
    first = get_settings()
    monkeypatch.setenv("ENGAGE_SERVE_PORT", "9002")
    assert get_settings() is first
    assert first.port == 9001


def test_command_line_values_override_settings(monkeypatch):
    monkeypatch.setenv("ENGAGE_SERVE_PORT", "9001")
    monkeypatch.setenv("ENGAGE_SERVE_ADMIN_TOKEN", "tok-admin-token-2026")
    s = resolve_settings(host="0.0.0.0", port=None, model_uri="/models/policy")
    assert (s.host, s.port, s.model_uri) == ("0.0.0.0", 9001, "/models/policy")
    assert s.admin_token is not None and s.admin_token.get_secret_value() == "tok-admin-token-2026"
    assert resolve_settings() is get_settings()
    with pytest.raises(ValidationError):
        resolve_settings(port=70_000)


def test_every_setting_is_documented_in_env_example():
    text = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*ENGAGE_SERVE_([A-Z_]+)=", text, flags=re.MULTILINE))
    assert documented == {name.upper() for name in ServeSettings.model_fields}
