"""The logged MLflow model: int64 profiles accepted, ``params`` honoured, trained objective served.

The committed fixture policy is logged into the session's temporary MLflow store (no training),
then loaded back the way users load it: ``mlflow.pyfunc.load_model`` and ``engage serve``.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from engage import registry
from engage.policy.artifact import load_policy
from engage.serving.app import create_app
from engage.serving.settings import ServeSettings

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CONVERSIONS_ONLY = {"conversions": 1.0}

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    return pd.read_parquet(FIXTURES / "snapshot_profiles.parquet").head(5)


@pytest.fixture(scope="module")
def logged(mlflow_store, profiles):
    """The fixture policy, trained for conversions alone, logged as a run's model."""
    policy = dataclasses.replace(load_policy(FIXTURES / "policy"), objective=CONVERSIONS_ONLY)
    mlflow.set_experiment("engage-tests")
    with mlflow.start_run():
        info = registry.log_policy_model(policy, profiles.head(2))
    return policy, info.model_uri


def _int64(frame: pd.DataFrame) -> pd.DataFrame:
    """Whole-number columns as pandas reads them from a CSV: int64."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_float_dtype(out[name]):
            out[name] = np.round(out[name]).astype("int64")
    return out


def test_the_pyfunc_accepts_int64_columns(logged, profiles):
    _, uri = logged
    frame = _int64(profiles)
    assert (frame.dtypes == "int64").sum() >= 5
    out = mlflow.pyfunc.load_model(uri).predict(frame)
    assert len(out) == len(frame)


def test_the_pyfunc_refuses_bad_rows_naming_each_as_the_api_would(logged, profiles):
    # issue 30 item 4: through mlflow.pyfunc these were answered, or failed the whole frame
    _, uri = logged
    frame = profiles.head(3).copy()
    frame.loc[frame.index[0], "innovation"] = 3.0
    frame.loc[frame.index[2], "industry"] = "crypto"
    with pytest.raises(ValueError, match="2 of 3 profiles do not fit") as caught:
        mlflow.pyfunc.load_model(uri).predict(frame)
    assert f"row {frame.index[0]!r}, column 'innovation'" in str(caught.value)
    assert f"row {frame.index[2]!r}, column 'industry': Input should be one of" in str(caught.value)


def test_the_pyfunc_honours_params(logged, profiles):
    _, uri = logged
    model = mlflow.pyfunc.load_model(uri)
    out = model.predict(profiles, params={"top_k": 5, "explain": False})
    answers = [json.loads(r) for r in out["result_json"]]
    assert all(len(a["recommendations"]) == 5 and a["explanation"] is None for a in answers)
    assert model.metadata.get_params_schema() is not None


def test_the_pyfunc_ranks_by_the_trained_objective_unless_told_otherwise(logged, profiles):
    policy, uri = logged
    model = mlflow.pyfunc.load_model(uri)
    by_default = [json.loads(r) for r in model.predict(profiles)["result_json"]]
    spec_weights = json.dumps(
        {"conversions": 1, "engagement_rate": 0.5, "follower_growth": 0.3, "retention_30d": 0.05}
    )
    overridden = [
        json.loads(r)
        for r in model.predict(profiles, params={"objective": spec_weights})["result_json"]
    ]
    for a, b in zip(by_default, overridden, strict=True):
        top_a, top_b = a["recommendations"][0], b["recommendations"][0]
        # trained for conversions alone: the objective is the predicted conversions
        assert top_a["predicted_objective"] == pytest.approx(
            top_a["predicted"]["conversions"]["mean"]
        )
        assert top_b["predicted_objective"] != pytest.approx(
            top_b["predicted"]["conversions"]["mean"]
        )
    assert json.loads(model.metadata.metadata["objective"])["engagement_rate"] == 0.0


def test_engage_serve_ranks_by_the_trained_objective(logged, profiles):
    _, uri = logged
    app = create_app(ServeSettings(model_uri=uri, reload_interval_s=0))
    profile = {k: (v.item() if hasattr(v, "item") else v) for k, v in profiles.iloc[0].items()}
    with TestClient(app) as client:
        response = client.post("/v1/recommendations", json={"profile": profile})
    assert response.status_code == 200, response.text
    top = response.json()["recommendations"][0]
    assert top["predicted_objective"] == pytest.approx(top["predicted"]["conversions"]["mean"])
