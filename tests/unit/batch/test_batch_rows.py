"""The batch job's rows carry the policy's answer whole: every leaf of a recommendation is a
column (``engage.batch.scoring.answer_rows``), on the committed fixture policy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engage.batch.scoring import answer_rows, flatten
from engage.policy.artifact import load_policy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def test_every_leaf_of_a_recommendation_is_a_column() -> None:
    policy = load_policy(FIXTURES / "policy")
    profiles = pd.read_parquet(FIXTURES / "snapshot_profiles.parquet").head(2)
    for answer in policy.recommend(profiles, top_k=2):
        rows = answer_rows(answer, {"id": 1}, explain=True)
        for rec, row in zip(answer.recommendations, rows, strict=True):
            leaves = flatten(rec.to_dict())
            assert leaves.items() <= row.items()
            assert "support_similar_campaigns" in leaves  # the action search's count (issue 27)
            assert isinstance(row["support_similar_campaigns"], int)


def test_one_text_cell_quarantines_its_row_only() -> None:
    # issue 30 item 5: a numeric column read as text; only the cell that is not a number is bad
    from engage.batch.inputs import ROW
    from engage.batch.scoring import INPUT, REASON, score_chunk
    from engage.serving.examples import EXAMPLE_PROFILE
    from engage.serving.model import LoadedModel

    model = LoadedModel.from_policy(load_policy(FIXTURES / "policy"), "fixture", "m", "1")
    chunk = pd.DataFrame([EXAMPLE_PROFILE] * 3).assign(shareability=["0.8", "high", "0.4"])
    chunk.insert(0, ROW, range(3))
    recs, bad = score_chunk(model, chunk, top_k=1, explain=False)
    assert sorted(recs[ROW]) == [0, 2]
    assert bad[ROW].tolist() == [1]
    assert bad[REASON].tolist() == ["shareability: 'high' is not a number"]
    assert '"shareability": "high"' in bad[INPUT].iloc[0]
