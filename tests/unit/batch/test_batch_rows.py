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
