"""``from engage import ...``: the public names resolve, and ``import engage`` stays light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import engage

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "policy"
HEAVY = ("mlflow", "fastapi", "lightgbm", "optuna", "pandas", "sklearn")


def test_import_engage_loads_no_heavy_library() -> None:
    code = (
        "import sys, engage; "
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", sorted(set(engage.__all__) - {"__version__"}))
def test_every_public_name_resolves(name: str) -> None:
    assert getattr(engage, name) is not None
    assert name in dir(engage)


def test_public_names_are_the_library_objects() -> None:
    from engage.contract.spec import load_spec
    from engage.policy.policy import Policy
    from engage.training.pipeline import train
    from engage.training.settings import TrainSettings

    assert engage.load_spec is load_spec and engage.Policy is Policy
    assert engage.train is train and engage.TrainSettings is TrainSettings


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'trian'"):
        engage.trian  # noqa: B018


def test_load_policy_reads_a_saved_policy_directory() -> None:
    policy = engage.load_policy(FIXTURE)
    assert isinstance(policy, engage.Policy)


def test_load_policy_of_a_missing_model_says_why(tmp_path, monkeypatch) -> None:
    from engage.serving.model import ModelLoadError

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    with pytest.raises(ModelLoadError, match="no MLflow store at"):
        engage.load_policy("models:/engage-simulated_world@champion")
