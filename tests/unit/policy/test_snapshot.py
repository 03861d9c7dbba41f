"""Behaviour is preserved: the committed policy answers 200 profiles exactly as engage 0.1 did.

The snapshot was computed by the code before the ``src/engage`` refactor from the same policy
(see ``tests/fixtures/README.md``); the policy now comes from the plain-file artifact, so this
also checks that the artifact round-trips every number the answers depend on.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pandas as pd
import pytest

from engage.policy.artifact import load_policy
from engage.policy.policy import Constraints

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


@pytest.fixture(scope="module")
def snapshot() -> dict:
    with gzip.open(FIXTURES / "snapshot_answers.json.gz", "rt") as fh:
        return json.load(fh)


@pytest.fixture(scope="module")
def policy():
    return load_policy(FIXTURES / "policy-v2")


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    return pd.read_parquet(FIXTURES / "snapshot_profiles.parquet")


def _plain(answers) -> list[dict]:
    """Typed answers as the JSON the snapshot holds (``Answer.to_dict``)."""
    return json.loads(json.dumps([a.to_dict() for a in answers], sort_keys=True))


CASES = {
    "default": lambda p, x: p.recommend(x),
    "objective_top5": lambda p, x: p.recommend(
        x, top_k=5,
        objective={"conversions": 1.0, "engagement_rate": 0.0, "follower_growth": 0.3, "retention_30d": 0.05},
    ),
    "constrained": lambda p, x: p.recommend(
        x.head(50),
        constraints=Constraints(
            styles=["broadcast", "community", "conversational"], numeric_max={"posts_per_week": 8}
        ),
    ),
    "no_explain": lambda p, x: p.recommend(x.head(50), top_k=2, explain=False),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_answers_equal_the_snapshot(case, policy, profiles, snapshot):
    got = _plain(CASES[case](policy, profiles))
    want = snapshot[case]
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"profile {i} of case {case!r} differs from the snapshot"


def test_the_snapshot_is_personalised_and_explained(snapshot):
    """The snapshot exercises what matters: several first styles, explanations, support words."""
    first = {a["recommendations"][0]["style"] for a in snapshot["default"]}
    assert len(first) >= 3
    assert all(a["explanation"]["factors"] for a in snapshot["default"])
    assert all(a["explanation"] is None for a in snapshot["no_explain"])
