"""Loading a model leaves ``sys.path`` as it was: processes started afterwards (Dask workers)
import this engage, not the partial copy of it in the model's code folder."""

from __future__ import annotations

import sys
from pathlib import Path

import mlflow

from engage.registry import load_model_object
from engage.registry.models import _runtime_code

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "policy"


def test_a_loaded_models_code_folder_is_not_left_on_the_path(tmp_path) -> None:
    model = tmp_path / "model"
    mlflow.pyfunc.save_model(
        str(model),
        loader_module="engage.policy.artifact",
        data_path=str(FIXTURE),
        code_paths=[str(_runtime_code(tmp_path / "code"))],
        pip_requirements=[],
    )
    before = list(sys.path)
    policy = load_model_object(str(model))
    assert type(policy).__module__ == "engage.policy.policy"
    assert sys.path == before
    assert not [p for p in sys.path if p.startswith(str(model))]
