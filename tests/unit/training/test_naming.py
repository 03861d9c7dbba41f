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
from engage.training.run_record import experiment_description, model_description, run_name
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


def test_run_name_starts_with_what_tells_runs_apart() -> None:
    # issue 30: MLflow's runs table cut "facebook_metrics · dataset_Facebook.csv · seed 3" to
    # "facebook_metrics · …", the experiment's own name; the data file and seed come first
    settings = TrainSettings(data=Path("/data/dataset_Facebook.csv"), seed=3)
    assert run_name(settings) == "dataset_Facebook.csv · seed 3"


def test_experiment_description_says_what_its_runs_are() -> None:
    text = experiment_description(load_spec(FACEBOOK))
    assert text.startswith("engage training runs on the facebook_metrics campaign log")


def test_model_description_says_what_it_recommends() -> None:
    text = model_description(load_spec())
    assert text.startswith("Recommends") and "`simulated_world`" in text
    assert "customer_care" in text and "posting mix" in text and "champion" in text


def test_new_experiment_is_classical_ml_and_model_described_once(mlflow_store, tmp_path) -> None:
    registry.configure_tracking("engage-naming-test", tmp_path, "what its runs are")
    experiment = mlflow.get_experiment_by_name("engage-naming-test")
    assert (
        experiment.tags[registry.EXPERIMENT_KIND_TAG]
        == registry.CLASSICAL_ML
        == "custom_model_development"
    )
    # the experiment list's "Description" column (it showed "-")
    assert experiment.tags["mlflow.note.content"] == "what its runs are"
    client = MlflowClient()
    registry.ensure_registered_model(client, "engage-naming-test", "first")
    registry.ensure_registered_model(client, "engage-naming-test", "second")  # exists: kept
    assert client.get_registered_model("engage-naming-test").description == "first"


def test_an_existing_experiment_gets_the_tags_it_lacks_and_keeps_its_description(
    mlflow_store, tmp_path
) -> None:
    client = MlflowClient()
    bare = client.create_experiment("engage-naming-old")  # made by an older engage, untagged
    registry.configure_tracking("engage-naming-old", tmp_path, "described now")
    tags = client.get_experiment(bare).tags
    assert tags[registry.EXPERIMENT_KIND_TAG] == registry.CLASSICAL_ML
    assert tags[registry.DESCRIPTION_TAG] == "described now"
    registry.configure_tracking("engage-naming-old", tmp_path, "another")
    assert client.get_experiment(bare).tags[registry.DESCRIPTION_TAG] == "described now"


def test_experiment_links_open_mlflow_on_the_runs_view() -> None:
    # MLflow 3.18's UI opens an experiment on its GenAI page whatever the experiment's kind tag
    # says, unless the address asks for the machine-learning view
    local = registry.experiment_page("sqlite:///mlruns/mlflow.db", "3")
    assert local == "http://127.0.0.1:5000/#/experiments/3?workflowType=machine_learning"
    remote = registry.experiment_page("https://u:secret@mlflow.example:5000/", "3", "abc")
    assert remote.endswith("/#/experiments/3/runs/abc?workflowType=machine_learning")
    assert "secret" not in remote
