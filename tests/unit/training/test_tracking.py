"""Dataset logging: a digest over every row, and a schema MLflow can show, without full scans."""

from __future__ import annotations

import json

import mlflow
import numpy as np
import pandas as pd

from engage.training.tracking import frame_digest, log_dataset


def frame(rows: int = 12_000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "industry": rng.choice(["retail", "software"], rows),
            "followers": rng.integers(10, 10_000, rows).astype(float),
            "conversions": rng.normal(size=rows),
        }
    )


def test_digest_covers_every_row_and_column_name():
    df = frame()
    assert frame_digest(df) == frame_digest(df.copy())
    late = df.copy()
    late.loc[11_500, "followers"] += 1  # past the 10,000 rows MLflow's own digest reads
    assert frame_digest(late) != frame_digest(df)
    assert frame_digest(df.rename(columns={"conversions": "sales"})) != frame_digest(df)
    assert len(frame_digest(df)) == 16


def test_logged_dataset_has_digest_schema_and_rows(mlflow_store):
    df = frame()
    mlflow.set_experiment("engage-tests")
    with mlflow.start_run() as run:
        digest = log_dataset(df, "campaigns.parquet", "campaigns.parquet:train", "training")
    inputs = mlflow.get_run(run.info.run_id).inputs.dataset_inputs
    assert len(inputs) == 1
    logged = inputs[0].dataset
    assert logged.digest == digest == frame_digest(df)
    assert logged.name == "campaigns.parquet:train"
    columns = [c["name"] for c in json.loads(logged.schema)["mlflow_colspec"]]
    assert columns == list(df.columns)
    assert json.loads(logged.profile)["num_rows"] == len(df)
    assert [t.value for t in inputs[0].tags if t.key == "mlflow.data.context"] == ["training"]
