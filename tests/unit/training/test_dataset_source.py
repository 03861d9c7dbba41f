"""Datasets are logged with an explicit local source: MLflow's "The specified dataset source
can be interpreted in multiple ways" warning (twice per training) is gone."""

from __future__ import annotations

import warnings

import mlflow.data
import pandas as pd

from engage.training.tracking import local_source


def test_a_local_file_has_one_unambiguous_source(tmp_path) -> None:
    data = tmp_path / "campaigns.parquet"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dataset = mlflow.data.from_pandas(
            pd.DataFrame({"a": [1, 2]}), source=local_source(data), name="x"
        )
    assert not [w for w in caught if "source" in str(w.message)], [str(w.message) for w in caught]
    assert dataset.source._get_source_type() == "local"
    assert dataset.source.uri == data.resolve().as_uri()


def test_the_bare_path_is_what_made_mlflow_warn(tmp_path) -> None:
    # the cause, kept visible: should MLflow stop warning for a bare path, this test says so
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        mlflow.data.from_pandas(
            pd.DataFrame({"a": [1]}), source=str(tmp_path / "c.parquet"), name="x"
        )
    assert any("interpreted in multiple ways" in str(w.message) for w in caught)


def test_a_relative_path_becomes_an_absolute_uri(tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert local_source("data/log.csv").uri == (tmp_path / "data" / "log.csv").as_uri()


def test_the_schema_of_integer_columns_gives_no_hint() -> None:
    from engage.training.tracking import INTEGER_HINT, dataset_schema

    frame = pd.DataFrame({"likes": [139441, 139441], "hour": [3, 10], "type": ["Photo", "Status"]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        schema = dataset_schema(frame)
    assert schema.input_names() == ["likes", "hour", "type"]
    assert not [w for w in caught if INTEGER_HINT in str(w.message)]
