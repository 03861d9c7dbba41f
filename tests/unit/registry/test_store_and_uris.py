"""The default tracking URI is defined once and used by every process; the registered-model URI
grammar the loader and the reload allow-list share."""

from __future__ import annotations

import pytest

from engage.registry import StoreMissingError, default_tracking_uri, open_store
from engage.registry.uris import RegisteredUri, parse_registered_uri, registered_name
from engage.serving.settings import ServeSettings


def test_the_default_store_is_sqlite_in_mlruns_unless_mlflow_tracking_uri(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert default_tracking_uri() == f"sqlite:///{tmp_path.resolve() / 'mlruns' / 'mlflow.db'}"
    assert not (tmp_path / "mlruns").exists()  # asking creates nothing
    assert ServeSettings().tracking_uri == default_tracking_uri()
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://tracking:5000")
    assert default_tracking_uri(tmp_path / "elsewhere") == "http://tracking:5000"
    assert ServeSettings().tracking_uri == "http://tracking:5000"


def test_a_missing_sqlite_store_is_not_created(tmp_path):
    with pytest.raises(StoreMissingError, match="no MLflow store at"):
        open_store(f"sqlite:///{tmp_path / 'absent.db'}")
    assert not (tmp_path / "absent.db").exists()


@pytest.mark.parametrize(
    ("uri", "parsed", "name"),
    [
        ("models:/m@champion", RegisteredUri("m", alias="champion"), "m"),
        ("models:/m/3", RegisteredUri("m", version="3"), "m"),
        ("models:/m/latest", None, "m"),
        ("models:/m-0123abcd", None, None),  # a logged model, not a registered one
        ("runs:/abc/policy", None, None),
        ("/srv/models/policy", None, None),
        ("models:/m@champion/x", None, "m"),
    ],
)
def test_registered_uris(uri, parsed, name):
    assert parse_registered_uri(uri) == parsed
    assert registered_name(uri) == name


def test_loading_a_registered_model_with_no_store_creates_nothing(monkeypatch, tmp_path):
    # issue 30 item 4: MLflow's own default store is sqlite:///mlflow.db in the working
    # directory, which it created empty before saying "not found"
    import mlflow.tracking._tracking_service.utils as tracking

    from engage.registry import load_model_object

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(tracking, "_tracking_uri", None)
    with pytest.raises(StoreMissingError, match="point MLFLOW_TRACKING_URI at the store"):
        load_model_object("models:/engage-simulated_world@champion")
    assert list(tmp_path.iterdir()) == []
