"""FeatureBuilder: the frame-free encoding of request rows matches the frame encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.policy.encoding import EncodingError, FeatureBuilder
from engage.contract.spec import load_spec
from engage.simulation.world import SimulatedWorld


@pytest.fixture(scope="module")
def builder() -> FeatureBuilder:
    return FeatureBuilder(load_spec())


def test_encode_rows_matches_encode_context(builder: FeatureBuilder) -> None:
    names = builder.context_names
    frame = SimulatedWorld("hard").simulate(300, seed=5)[names]
    rows = frame.to_numpy(dtype=object).tolist()
    rows[0][names.index("followers")] = None  # a missing numeric value stays NaN in both
    rows[1][names.index("industry")] = None  # and so does a missing category
    expected = builder.encode_context(pd.DataFrame(rows, columns=names))
    got = builder.encode_rows(rows)
    assert got.shape == (300, len(names))
    assert np.isnan(got[0, names.index("followers")]) and np.isnan(got[1, names.index("industry")])
    np.testing.assert_array_equal(got, expected)


def test_encode_rows_names_an_unknown_category(builder: FeatureBuilder) -> None:
    names = builder.context_names
    row = SimulatedWorld("hard").simulate(1, seed=5)[names].to_numpy(dtype=object).tolist()[0]
    row[names.index("industry")] = "space_tourism"
    with pytest.raises(EncodingError, match="industry.*space_tourism"):
        builder.encode_rows([row])
