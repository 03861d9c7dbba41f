"""One model per spec: experiment, model, run names and descriptions as MLflow users read them."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from engage import registry
from engage.cli import build_parser, spec_model_uri
from engage.contract.spec import load_spec, tracking_name
from engage.serving.settings import DEFAULT_MODEL_URI
from engage.training.pipeline import model_description, run_name
from engage.training.settings import TrainSettings, with_spec_names

REPO = Path(__file__).resolve().parents[3]
FACEBOOK = REPO / "examples" / "facebook_metrics.yaml"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.upper().startswith("ENGAGE_TRAIN_"):
            monkeypatch.delenv(key)


@pytest.mark.parametrize(
    ("spec_name", "expected"),
    [
        ("simulated_world", "engage-simulated_world"),
        ("facebook_metrics", "engage-facebook_metrics"),
        ("Shop campaigns / EU (v2)", "engage-Shop_campaigns_EU_v2"),
        ("a.b-c", "engage-a.b-c"),
        ("@@@", "engage-spec"),
    ],
)
def test_tracking_name_is_mlflow_safe(spec_name, expected) -> None:
    assert tracking_name(spec_name) == expected


def test_names_derive_from_the_spec_unless_given(monkeypatch) -> None:
    derived = with_spec_names(TrainSettings(data=Path("x.csv")), "facebook_metrics")
    assert (derived.experiment, derived.model_name) == ("engage-facebook_metrics",) * 2
    given = with_spec_names(
        TrainSettings(data=Path("x.csv"), experiment="e", model_name="m"), "facebook_metrics"
    )
    assert (given.experiment, given.model_name) == ("e", "m")
    monkeypatch.setenv("ENGAGE_TRAIN_MODEL_NAME", "from-env")
    from_env = with_spec_names(TrainSettings(data=Path("x.csv")), "facebook_metrics")
    assert (from_env.experiment, from_env.model_name) == ("engage-facebook_metrics", "from-env")


def test_serving_default_is_the_default_specs_champion() -> None:
    assert f"models:/{tracking_name(load_spec().name)}@champion" == DEFAULT_MODEL_URI


def test_serve_spec_derives_the_specs_champion() -> None:
    assert spec_model_uri(str(FACEBOOK)) == "models:/engage-facebook_metrics@champion"
    assert spec_model_uri(None) is None
    args = build_parser().parse_args(["serve", "--spec", str(FACEBOOK)])
    assert (args.spec, args.model_uri) == (str(FACEBOOK), None)
    with pytest.raises(SystemExit):  # one or the other
        build_parser().parse_args(
            ["serve", "--spec", "s.yaml", "--model-uri", "models:/m@champion"]
        )


def test_run_name_says_spec_data_and_seed() -> None:
    settings = TrainSettings(data=Path("/data/dataset_Facebook.csv"), seed=3)
    assert (
        run_name(load_spec(FACEBOOK), settings)
        == "facebook_metrics · dataset_Facebook.csv · seed 3"
    )


def test_model_description_says_what_it_recommends() -> None:
    text = model_description(load_spec())
    assert text.startswith("Recommends") and "`simulated_world`" in text
    assert "customer_care" in text and "posting mix" in text and "champion" in text


def test_new_experiment_is_classical_ml_and_model_described_once(mlflow_store, tmp_path) -> None:
    registry.configure_tracking("engage-naming-test", tmp_path)
    experiment = mlflow.get_experiment_by_name("engage-naming-test")
    assert (
        experiment.tags[registry.EXPERIMENT_KIND_TAG]
        == registry.CLASSICAL_ML
        == "custom_model_development"
    )
    client = MlflowClient()
    registry.ensure_registered_model(client, "engage-naming-test", "first")
    registry.ensure_registered_model(client, "engage-naming-test", "second")  # exists: kept
    assert client.get_registered_model("engage-naming-test").description == "first"
