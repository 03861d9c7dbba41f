"""``engage recommend-batch``: one process and a real 2-worker Dask LocalCluster give the same
answers for a partitioned input; bad rows are quarantined with reasons, none dropped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engage.batch import BatchInputError, BatchSettings, run_batch
from engage.cli import main

pytestmark = pytest.mark.slow

ROWS = 900
BAD = {  # row -> (column, value, what the reason names)
    10: ("employees", np.nan, "employees: Input should be a finite number"),
    333: ("industry", "martian", "industry: Input should be one of"),
    800: ("shareability", 7.5, "shareability: Input should be less than or equal to 1"),
}


@pytest.fixture(scope="module")
def profiles(tmp_path_factory, trained) -> Path:
    """900 simulated profiles with 3 bad rows, as 3 files of 4 row groups each, plus an id."""
    from engage.simulation.world import SimulatedWorld

    names = list(trained.policy.spec.context_names)
    frame = SimulatedWorld("hard").simulate(ROWS, seed=11)[names].copy()
    frame["account_id"] = [f"acct-{i:04d}" for i in range(ROWS)]
    for row, (column, value, _) in BAD.items():
        frame.loc[row, column] = value
    folder = tmp_path_factory.mktemp("profiles")
    for i in range(3):
        part = frame.iloc[i * 300 : (i + 1) * 300]
        part.to_parquet(folder / f"profiles-{i}.parquet", row_group_size=75, index=False)
    return folder


def _settings(trained_uri: str, profiles: Path, output: Path, **kw) -> BatchSettings:
    import os

    values = dict(
        model_uri=trained_uri,
        input=str(profiles),
        output=str(output),
        tracking_uri=os.environ["MLFLOW_TRACKING_URI"],
        top_k=3,
        chunk_rows=200,
        id_column="account_id",
    )
    values.update(kw)
    return BatchSettings(**values)


def _read(output: Path, part: str) -> pd.DataFrame:
    frame = pd.read_parquet(output / part)
    return frame.sort_values(["_row", *(["rank"] if "rank" in frame else [])]).reset_index(
        drop=True
    )


@pytest.fixture(scope="module")
def single(champion_uri, profiles, tmp_path_factory):
    output = tmp_path_factory.mktemp("single") / "out"
    result = run_batch(_settings(champion_uri, profiles, output))
    return result, output


def test_one_process_scores_every_valid_profile_and_quarantines_the_rest(single, trained):
    result, output = single
    assert (result.rows, result.scored, result.quarantined) == (ROWS, ROWS - len(BAD), len(BAD))
    recs = _read(output, "recommendations")
    assert len(recs) == result.recommendations == 3 * (ROWS - len(BAD))
    assert sorted(set(range(ROWS)) - set(recs["_row"])) == sorted(BAD)
    assert all(list(ranks) == [1, 2, 3] for _, ranks in recs.groupby("_row")["rank"])
    # streamed in chunks of 200 rows, cut at file ends: several part files
    assert len(list((output / "recommendations").glob("part-*.parquet"))) == 6
    quarantine = _read(output, "quarantine")
    assert list(quarantine["_row"]) == sorted(BAD)
    for _, row in quarantine.iterrows():
        assert BAD[row["_row"]][2] in row["_reason"]
        assert row["account_id"] == f"acct-{row['_row']:04d}"
        column = BAD[row["_row"]][0]
        assert column in json.loads(row["_input"])  # the values as read, for the data team
    manifest = json.loads((output / "_manifest.json").read_text())
    assert manifest["quarantined"] == len(BAD)
    assert manifest["model_uri"] == f"models:/test-policy/{manifest['model_version']}"


def test_rows_match_the_policy_answer_for_the_same_profile(single, trained, profiles):
    _, output = single
    recs = _read(output, "recommendations")
    names = list(trained.policy.spec.context_names)
    sample = pd.read_parquet(profiles / "profiles-1.parquet").iloc[:5]
    answers = trained.policy.recommend(sample[names], top_k=3, explain=False)
    for offset, answer in enumerate(answers):
        got = recs[recs["_row"] == 300 + offset].reset_index(drop=True)
        for rec in answer.recommendations:
            row = got.iloc[rec.rank - 1]
            assert row["style"] == rec.style
            assert row["predicted_objective"] == pytest.approx(rec.predicted_objective)
            assert row["support_level"] == rec.support.level
            assert row["support_similar_campaigns"] == rec.support.similar_campaigns
            for k, v in rec.posting_mix.items():
                assert row[f"posting_mix_{k}"] == pytest.approx(v)
            for k, v in rec.decisions.items():
                expected = pytest.approx(v) if isinstance(v, float) else v
                assert row[f"decisions_{k}"] == expected


def test_dask_local_cluster_gives_the_same_answers(single, champion_uri, profiles, tmp_path):
    _, single_output = single
    output = tmp_path / "dask-out"
    result = run_batch(_settings(champion_uri, profiles, output, dask="local", workers=2))
    assert result.engine == "Dask LocalCluster (2 workers)"
    assert (result.rows, result.quarantined) == (ROWS, len(BAD))
    # one task per 2 row groups (150 rows): 6 parts of recommendations
    assert len(list((output / "recommendations").glob("part-*.parquet"))) == 6
    pd.testing.assert_frame_equal(
        _read(output, "recommendations"), _read(single_output, "recommendations")
    )
    pd.testing.assert_frame_equal(_read(output, "quarantine"), _read(single_output, "quarantine"))


def test_explain_adds_the_first_choice_factors(champion_uri, profiles, tmp_path):
    output = tmp_path / "explained"
    run_batch(
        _settings(champion_uri, profiles / "profiles-0.parquet", output, explain=True, top_k=2)
    )
    recs = _read(output, "recommendations")
    first = recs[recs["rank"] == 1]
    assert first["explanation_summary"].notna().all()
    factors = json.loads(first["explanation_factors"].iloc[0])
    assert factors and {"feature", "contribution", "sentence"} <= set(factors[0])
    assert recs.loc[recs["rank"] == 2, "explanation_factors"].isna().all()


def test_a_missing_column_is_refused_by_name(champion_uri, profiles, tmp_path, capsys):
    bad = tmp_path / "no-goal.parquet"
    pd.read_parquet(profiles / "profiles-0.parquet").drop(columns=["goal"]).to_parquet(bad)
    with pytest.raises(BatchInputError, match="1 required column.*goal"):
        run_batch(_settings(champion_uri, bad, tmp_path / "out"))
    code = main(
        [
            "recommend-batch",
            "--model-uri",
            champion_uri,
            "--input",
            str(bad),
            "--output",
            str(tmp_path / "out2"),
        ]
    )
    assert code == 1
    assert "goal" in capsys.readouterr().err


def test_an_existing_output_is_never_overwritten(single, champion_uri, profiles, capsys):
    _, output = single
    before = sorted(p.stat().st_mtime_ns for p in output.rglob("*.parquet"))
    with pytest.raises(FileExistsError, match="not an empty directory"):
        run_batch(_settings(champion_uri, profiles, output))
    code = main(
        [
            "recommend-batch",
            "--model-uri",
            champion_uri,
            "--input",
            str(profiles),
            "--output",
            str(output),
        ]
    )
    assert code == 1
    assert "not an empty directory" in capsys.readouterr().err
    assert sorted(p.stat().st_mtime_ns for p in output.rglob("*.parquet")) == before
