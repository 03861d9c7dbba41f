"""``engage recommend`` on the committed policy fixture: input formats, the API's checks with
errors grouped per column, output formats and exit codes (the load itself is tested on a real
MLflow store in tests/integration/test_recommend_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from engage.cli import main
from engage.cli import recommend as cli_recommend
from engage.policy.artifact import load_policy
from engage.serving.examples import EXAMPLE_PROFILE
from engage.serving.model import LoadedModel

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "policy"


@pytest.fixture(scope="module")
def model() -> LoadedModel:
    return LoadedModel.from_policy(load_policy(FIXTURE), str(FIXTURE), "fixture-model", "7")


@pytest.fixture
def served(model, monkeypatch) -> LoadedModel:
    """``engage recommend`` answers with the fixture policy (as if loaded from the store)."""
    monkeypatch.setattr(cli_recommend, "load_model", lambda uri, spec: model)
    return model


def test_one_profile_prints_one_answer_object(served, capsys) -> None:
    assert main(["recommend", "--profile", json.dumps(EXAMPLE_PROFILE), "--top-k", "2"]) == 0
    out, err = capsys.readouterr()
    answer = json.loads(out)
    assert [r["rank"] for r in answer["recommendations"]] == [1, 2]
    assert answer["explanation"]["chosen_style"] == answer["recommendations"][0]["style"]
    assert "1 answer from fixture-model version 7 printed" in err
    # exactly what the policy answers for that profile
    expected = served.policy.recommend(pd.DataFrame([EXAMPLE_PROFILE]), top_k=2)[0].to_dict()
    assert answer == json.loads(json.dumps(expected))
    # the support counts the action search measured, as the API gives them (issue 27)
    assert all(
        isinstance(r["support"]["similar_campaigns"], int) for r in answer["recommendations"]
    )


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".jsonl", ".json"])
def test_a_file_of_profiles_gives_one_answer_each(served, tmp_path, suffix) -> None:
    profiles = [EXAMPLE_PROFILE, {**EXAMPLE_PROFILE, "industry": "software", "followers": 90_000}]
    src = tmp_path / f"profiles{suffix}"
    if suffix == ".csv":
        pd.DataFrame(profiles).to_csv(src, index=False)
    elif suffix == ".parquet":
        pd.DataFrame(profiles).to_parquet(src)
    elif suffix == ".jsonl":
        src.write_text("\n".join(json.dumps(p) for p in profiles) + "\n")
    else:
        src.write_text(json.dumps(profiles))
    out = tmp_path / "answers.jsonl"
    assert (
        main(
            ["recommend", "--input", str(src), "--output", str(out), "--no-explain", "--top-k", "1"]
        )
        == 0
    )
    answers = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(answers) == 2
    assert all(len(a["recommendations"]) == 1 and a["explanation"] is None for a in answers)


def test_json_output_is_a_list_for_a_file(served, tmp_path) -> None:
    src, out = tmp_path / "p.jsonl", tmp_path / "answers.json"
    src.write_text(json.dumps(EXAMPLE_PROFILE) + "\n")
    assert main(["recommend", "--input", str(src), "--output", str(out)]) == 0
    assert isinstance(json.loads(out.read_text()), list)


def test_bad_profiles_are_named_by_column_and_count(served, tmp_path, capsys) -> None:
    rows = [
        {**EXAMPLE_PROFILE, "industry": "crypto"},
        dict(EXAMPLE_PROFILE),
        {**EXAMPLE_PROFILE, "industry": "crypto"},
        {k: v for k, v in EXAMPLE_PROFILE.items() if k != "followers"},
        {**EXAMPLE_PROFILE, "followers": None, "mood": "happy"},
    ]
    src = tmp_path / "p.json"
    src.write_text(json.dumps(rows))
    out = tmp_path / "answers.jsonl"
    assert main(["recommend", "--input", str(src), "--output", str(out)]) == 2
    err = capsys.readouterr().err
    assert "4 of 5 profiles do not fit the model's spec; nothing was recommended" in err
    assert "column 'industry': 2 profiles (profile 1, 3): Input should be one of" in err
    assert "column 'followers': 1 profile (profile 4): Field required" in err
    assert "column 'followers': 1 profile (profile 5)" in err
    assert "column 'mood': 1 profile (profile 5): unknown field (not allowed)" in err
    assert not out.exists()  # nothing half-written


def test_a_bad_objective_is_named(served, capsys) -> None:
    args = ["recommend", "--profile", json.dumps(EXAMPLE_PROFILE), "--objective", '{"sales": 1}']
    assert main(args) == 2
    assert "objective.sales: unknown field (not allowed)" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--profile", "{industry: x}"], "--profile is not valid JSON"),
        (["--profile", "[1, {}]"], "1 profile(s) are not JSON objects (profile 1)"),
        (["--profile", "[]"], "--profile holds no profile"),
        (["--profile", "@/no/such/file.json"], "cannot read /no/such/file.json"),
        (["--input", "profiles.xlsx"], "unsupported file type '.xlsx'"),
        (["--profile", "{}", "--output", "answers.csv"], "use a .jsonl or .json file name"),
        (["--profile", "{}", "--objective", "[1]"], "--objective must be a JSON object"),
    ],
)
def test_unreadable_input_exits_2_before_any_model_is_loaded(
    args, says, monkeypatch, capsys
) -> None:
    monkeypatch.setattr(
        cli_recommend, "load_model", lambda uri, spec: pytest.fail("loaded a model")
    )
    assert main(["recommend", *args]) == 2
    assert says in capsys.readouterr().err


def test_top_k_out_of_range_is_refused_by_the_parser(capsys) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["recommend", "--profile", "{}", "--top-k", "11"])
    assert exit_.value.code == 2
    assert "must be a whole number from 1 to 10" in capsys.readouterr().err


def test_no_store_is_exit_1_with_what_to_do(tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert main(["recommend", "--profile", json.dumps(EXAMPLE_PROFILE)]) == 1
    err = capsys.readouterr().err
    assert "error: no model: no MLflow store at" in err and "engage train --data" in err
    assert not (tmp_path / "mlruns").exists()  # looking did not create an empty store


def test_a_long_unknown_key_is_echoed_cut(served, capsys) -> None:
    key = "k" * 100_000
    assert main(["recommend", "--profile", json.dumps({**EXAMPLE_PROFILE, key: 1})]) == 2
    err = capsys.readouterr().err
    assert len(err) < 5_000, len(err)
    assert "(+99,920 characters)" in err


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_one_bad_cell_names_only_its_profile(served, tmp_path, capsys, suffix) -> None:
    # issue 30 item 5: "high" in one row made the column text, and every profile was refused
    shares = ["0.8", "high", "0.4"] if suffix == ".parquet" else [0.8, "high", 0.4]
    profiles = pd.DataFrame([EXAMPLE_PROFILE] * 3).assign(shareability=shares)
    src = tmp_path / f"profiles{suffix}"
    if suffix == ".csv":
        profiles.to_csv(src, index=False)
    else:
        profiles.to_parquet(src)  # a text column of numbers, one of them not a number
    assert main(["recommend", "--input", str(src)]) == 2
    err = capsys.readouterr().err
    assert "1 of 3 profiles does not fit the model's spec" in err
    assert "column 'shareability': 1 profile (profile 2): 'high' is not a number" in err


def test_numbers_read_as_text_are_checked_as_numbers(served, tmp_path, capsys) -> None:
    # the other cells of a text column are read as numbers and checked as such (range included)
    profiles = pd.DataFrame([EXAMPLE_PROFILE] * 3).assign(shareability=["0.8", "7", "0.4"])
    src = tmp_path / "profiles.parquet"
    profiles.to_parquet(src)
    assert main(["recommend", "--input", str(src)]) == 2
    err = capsys.readouterr().err
    assert "1 of 3 profiles does not fit" in err
    assert "column 'shareability': 1 profile (profile 2): Input should be less than" in err
    good = tmp_path / "good.parquet"
    profiles.assign(shareability=["0.8", "0.5", "0.4"]).to_parquet(good)
    assert main(["recommend", "--input", str(good), "--top-k", "1"]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 3


def test_json_profiles_keep_the_api_s_strict_numbers(served, capsys) -> None:
    # a JSON string is not a number, as the API says (only table cells are read from text)
    bad = {**EXAMPLE_PROFILE, "shareability": "0.8"}
    assert main(["recommend", "--profile", json.dumps(bad)]) == 2
    assert "column 'shareability': 1 profile (profile 1): Input should be a valid number" in (
        capsys.readouterr().err
    )


def test_one_bad_profile_is_worded_in_the_singular(served, tmp_path, capsys) -> None:
    src = tmp_path / "p.json"
    src.write_text(json.dumps([{**EXAMPLE_PROFILE, "industry": "crypto"}]))
    assert main(["recommend", "--input", str(src), "--output", str(tmp_path / "a.json")]) == 2
    err = capsys.readouterr().err
    assert "1 of 1 profile does not fit the model's spec; nothing was recommended" in err


def test_printed_answers_round_their_numbers_files_keep_them(
    served, tmp_path, capsys, monkeypatch
) -> None:
    """On a terminal a person reads 9.677, not 9.676614658158048; --output (and a pipe, the
    test above) keeps every digit."""
    src = tmp_path / "p.json"
    src.write_text(json.dumps(EXAMPLE_PROFILE))
    monkeypatch.setattr("sys.stdout.isatty", lambda: True)
    assert main(["recommend", "--input", str(src), "--top-k", "1"]) == 0
    printed = json.loads(capsys.readouterr().out)
    out = tmp_path / "a.json"
    assert main(["recommend", "--input", str(src), "--top-k", "1", "--output", str(out)]) == 0
    kept = json.loads(out.read_text())
    first, full = printed[0]["recommendations"][0], kept[0]["recommendations"][0]
    for name, interval in first["predicted"].items():
        for key in ("mean", "low", "high"):
            assert len(repr(abs(interval[key])).replace(".", "").lstrip("0")) <= 5
            assert interval[key] == pytest.approx(full["predicted"][name][key], rel=1e-3)
    assert first["score"] == pytest.approx(full["score"], rel=1e-3)
    assert any(len(repr(v["mean"])) > 10 for v in full["predicted"].values())
    assert cli_recommend.readable({"a": [13629.43, 0.00012345, 9.676614658158048, 3, "x"]}) == {
        "a": [13629.0, 0.0001234, 9.677, 3, "x"]
    }
