"""The category canonicaliser: one label per meaning, missing values, vectorised = per cell."""

from __future__ import annotations

import datetime

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.contract.categories import canonical_category, factorize_categories


@pytest.mark.parametrize(
    ("value", "label"),
    [
        ("a", "a"),
        ("  spaced out \t", "spaced out"),
        (np.str_(" b"), "b"),
        (True, "True"),
        (False, "False"),
        (np.True_, "True"),
        (np.False_, "False"),
        ("true", "True"),
        ("TRUE", "True"),
        (" false ", "False"),
        ("FALSE", "False"),
        ("tRuE", "tRuE"),  # not a spelling pandas reads as a boolean
        ("yes", "yes"),
        (1, "1"),
        (-3, "-3"),
        (np.int8(7), "7"),
        (np.uint64(2**63), str(2**63)),
        (1.0, "1"),
        (-0.0, "0"),
        (np.float32(2.0), "2"),
        (1e20, "100000000000000000000"),
        (0.5, "0.5"),
        (0.1, "0.1"),
        (np.float32(0.1), "0.1"),  # its own shortest form, not 0.10000000149...
        (np.float64(1e-7), "1e-07"),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        ("1", "1"),
        ("1.0", "1.0"),  # text is kept as written: "01" or "1.0" may be deliberate codes
        (datetime.date(2024, 1, 2), "2024-01-02"),
    ],
)
def test_labels(value, label):
    assert canonical_category(value) == label


@pytest.mark.parametrize(
    "value", [None, float("nan"), np.nan, np.float32("nan"), pd.NA, pd.NaT, "", "   ", "\t\n"]
)
def test_missing_values(value):
    assert canonical_category(value) is None


def test_booleans_are_not_numbers():
    # Python says True == 1; the labels must not, or a flag column would match 0/1 codes.
    assert canonical_category(True) != canonical_category(1)
    assert canonical_category(False) != canonical_category(0.0)


scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=8),
    st.sampled_from(["true", "FALSE", " 1 ", "  ", "", pd.NA, np.int64(4), np.float64(2.5)]),
)


@given(scalars)
def test_idempotent(value):
    label = canonical_category(value)
    assert label is None or canonical_category(label) == label


@given(scalars)
def test_label_is_stripped_text(value):
    label = canonical_category(value)
    assert label is None or (isinstance(label, str) and label == label.strip() and label)


@given(st.lists(scalars, max_size=30))
def test_factorize_matches_canonicalising_each_cell(values):
    factors = factorize_categories(np.array(values, dtype=object))
    per_cell = [canonical_category(v) for v in values]
    got = [None if k < 0 else factors.labels[k] for k in factors.codes]
    assert got == per_cell
    assert len(set(factors.labels)) == len(factors.labels)


def test_factorize_keeps_booleans_apart_from_numbers():
    # pd.factorize alone would merge True with 1 and 1.0 (they hash and compare equal).
    factors = factorize_categories(np.array([1, True, 1.0, False, 0, None], dtype=object))
    assert factors.labels == ["1", "True", "False", "0"]
    assert factors.codes.tolist() == [0, 1, 0, 2, 3, -1]


def test_factorize_merges_spellings_of_one_label():
    factors = factorize_categories(pd.Series(["a", " a", "a ", None, "  "], dtype="str"))
    assert factors.labels == ["a"]
    assert factors.codes.tolist() == [0, 0, 0, -1, -1]


@pytest.mark.parametrize(
    ("column", "labels", "codes"),
    [
        (pd.Series([1.0, np.nan, 2.0, 1.0]), ["1", "2"], [0, -1, 1, 0]),
        (pd.Series([3, 1, 3], dtype="int64"), ["3", "1"], [0, 1, 0]),
        (pd.Series([True, None, False], dtype="boolean"), ["True", "False"], [0, -1, 1]),
        (pd.Series(pd.Categorical(["b", None, "a"])), ["b", "a"], [0, -1, 1]),
        (pd.Series([], dtype=object), [], []),
        ([" x", "x", None], ["x"], [0, 0, -1]),  # any iterable
    ],
)
def test_factorize_typed_columns(column, labels, codes):
    factors = factorize_categories(column)
    assert factors.labels == labels
    assert factors.codes.tolist() == codes
