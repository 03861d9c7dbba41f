"""Behaviour is preserved: the committed policy answers 200 profiles exactly as the snapshot says.

The snapshot comes from ``tests/fixtures/regenerate_snapshot.py``, which holds the cases and
regenerates it when a change alters the answers on purpose (see ``tests/fixtures/README.md``).
The policy comes from the plain-file artifact, so this also checks that the artifact
round-trips every number the answers depend on.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from engage.policy.artifact import load_policy

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"


def _regenerator() -> ModuleType:
    """The fixtures' regenerate script, imported from its file (``tests/fixtures`` is no package)."""
    found = importlib.util.spec_from_file_location(
        "regenerate_snapshot", FIXTURES / "regenerate_snapshot.py"
    )
    assert found is not None and found.loader is not None
    module = importlib.util.module_from_spec(found)
    found.loader.exec_module(module)
    return module


REGENERATE = _regenerator()


@pytest.fixture(scope="module")
def snapshot() -> dict:
    return REGENERATE.read()


@pytest.fixture(scope="module")
def policy():
    return load_policy(FIXTURES / "policy")


@pytest.fixture(scope="module")
def profiles() -> pd.DataFrame:
    return pd.read_parquet(FIXTURES / "snapshot_profiles.parquet")


@pytest.mark.parametrize("case", sorted(REGENERATE.CASES))
def test_answers_equal_the_snapshot(case, policy, profiles, snapshot):
    got = REGENERATE.plain(REGENERATE.CASES[case](policy, profiles))
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
    levels = {r["support"]["level"] for a in snapshot["default"] for r in a["recommendations"]}
    assert levels >= {"good", "limited"}


def test_the_comparison_reports_changed_added_and_removed_fields():
    old = {"c": [{"recommendations": [{"candidate_index": 3, "score": 1.0, "rank": 1}], "x": 1}]}
    new = {"c": [{"recommendations": [{"candidate_index": 3, "score": 1.0, "rank": 2}], "y": {}}]}
    report = REGENERATE.compare(old, new)
    assert report["recommendations[*].score"] == {"same": 1}
    assert report["recommendations[*].rank"] == {"changed": 1}
    assert report["x"] == {"removed": 1} and report["y"] == {"added": 1}
    text = REGENERATE.describe(report)
    assert text.splitlines()[-1] == "recommendations[*].score: same 1"  # unchanged fields last
