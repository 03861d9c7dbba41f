"""``engage recommend`` on a real trained model in a temporary MLflow store."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from engage.cli import main
from engage.serving.examples import EXAMPLE_PROFILE

pytestmark = pytest.mark.slow


def test_recommends_with_the_champion_as_the_server_loads_it(trained, champion_uri, capsys) -> None:
    assert (
        main(["recommend", "--model-uri", champion_uri, "--profile", json.dumps(EXAMPLE_PROFILE)])
        == 0
    )
    out, err = capsys.readouterr()
    answer = json.loads(out)
    expected = trained.policy.recommend(pd.DataFrame([EXAMPLE_PROFILE]), top_k=3)[0].to_dict()
    assert answer == json.loads(json.dumps(expected))
    assert f"1 answer from test-policy version {trained.version} printed" in err


def test_a_csv_file_to_json_lines(trained, champion_uri, tmp_path, capsys) -> None:
    profiles = pd.DataFrame([EXAMPLE_PROFILE] * 3).assign(followers=[100, 5_000, 250_000])
    src, out = tmp_path / "profiles.csv", tmp_path / "answers.jsonl"
    profiles.to_csv(src, index=False)
    args = [
        "recommend",
        "--model-uri",
        champion_uri,
        "--input",
        str(src),
        "--output",
        str(out),
        "--top-k",
        "1",
    ]
    assert main(args) == 0
    answers = [json.loads(line) for line in out.read_text().splitlines()]
    assert [len(a["recommendations"]) for a in answers] == [1, 1, 1]
    assert (
        f"3 answers from test-policy version {trained.version} written to {out}"
        in capsys.readouterr().err
    )


def test_a_bad_profile_is_exit_2_naming_the_column(champion_uri, capsys) -> None:
    bad = {**EXAMPLE_PROFILE, "employees": "twelve"}
    assert main(["recommend", "--model-uri", champion_uri, "--profile", json.dumps(bad)]) == 2
    assert "column 'employees': 1 profile (profile 1)" in capsys.readouterr().err


def test_no_registered_model_is_exit_1(mlflow_store, capsys) -> None:
    # the default URI, models:/engage-simulated_world@champion, is not in the test store
    assert main(["recommend", "--profile", json.dumps(EXAMPLE_PROFILE)]) == 1
    err = capsys.readouterr().err
    assert "error: no model: cannot load models:/engage-simulated_world@champion" in err
    assert "engage train --data" in err
