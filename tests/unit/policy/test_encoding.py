"""FeatureBuilder: the frame-free encoding of request rows matches the frame encoding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engage.contract.spec import CampaignSpec, CategoricalColumn, load_spec
from engage.policy.encoding import SMALL_INPUT, EncodingError, FeatureBuilder, encode_column
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


# ---------------------------------------------------------------------------- encode_column

TIER = CategoricalColumn(name="tier", values=["gold", "silver", 3])


@pytest.mark.parametrize("repeat", [1, SMALL_INPUT])  # the per-value path and the vectorised one
def test_encode_column_uses_canonical_labels(repeat: int) -> None:
    values = np.array(["gold", " silver ", 3, 3.0, "3", None, np.nan, "  "] * repeat, dtype=object)
    codes = encode_column(values, TIER)
    expected = [0.0, 1.0, 2.0, 2.0, 2.0, np.nan, np.nan, np.nan] * repeat
    np.testing.assert_array_equal(codes, expected)
    assert codes.dtype == np.float64


@pytest.mark.parametrize("repeat", [1, SMALL_INPUT])
def test_encode_column_names_every_unknown_label(repeat: int) -> None:
    values = pd.Series(["gold", "bronze", 3.5, "bronze", True] * repeat)
    message = (
        rf"column 'tier': {4 * repeat} value\(s\) not allowed \['3.5', 'True', 'bronze'\] "
        r"\(allowed: \['gold', 'silver', '3'\]\)"
    )
    with pytest.raises(EncodingError, match=message):
        encode_column(values, TIER)


@pytest.mark.parametrize("repeat", [1, SMALL_INPUT])
def test_booleans_and_numbers_keep_their_own_codes(repeat: int) -> None:
    flags = CategoricalColumn(name="flag", values=[1, True, 0, False])
    values = np.array([1, True, 1.0, False, 0, np.True_, "false"] * repeat, dtype=object)
    np.testing.assert_array_equal(
        encode_column(values, flags), [0.0, 1.0, 0.0, 3.0, 2.0, 1.0, 3.0] * repeat
    )


def test_typed_columns_encode() -> None:
    paid = CategoricalColumn(name="paid", values=[0, 1])
    np.testing.assert_array_equal(encode_column(np.array([1.0, np.nan, 0.0]), paid), [1, np.nan, 0])
    big = pd.Series([1, 0] * SMALL_INPUT, dtype="int64")
    np.testing.assert_array_equal(encode_column(big, paid), [1.0, 0.0] * SMALL_INPUT)
    bools = CategoricalColumn(name="b", values=[True, False])
    np.testing.assert_array_equal(encode_column(pd.Series([False, True]), bools), [1.0, 0.0])


def test_feature_builder_encodes_a_spec_with_numeric_values() -> None:
    raw = load_spec().model_dump()
    raw["context"][1]["values"] = [0, 1]  # market as codes
    builder = FeatureBuilder(CampaignSpec.model_validate(raw))
    frame = SimulatedWorld("hard").simulate(5, seed=1)[builder.context_names]
    frame["market"] = [1, 0, 1.0, "0", " 1"]
    codes = builder.encode_context(frame)[:, builder.context_names.index("market")]
    np.testing.assert_array_equal(codes, [1.0, 0.0, 1.0, 0.0, 1.0])
