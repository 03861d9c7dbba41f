"""Validation and encoding agree on every categorical value: the category round-trip.

A value validation accepts encodes to its label's code, a value it quarantines as unknown is
refused by the encoder (never silently encoded), and a value is missing for one exactly when
it is missing for the other. Both go through ``engage.contract.categories``.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engage.contract.categories import canonical_category
from engage.contract.readers import read_csv
from engage.contract.spec import CampaignSpec, CategoricalColumn
from engage.contract.validation import ValidationReport, validate_log
from engage.policy.encoding import SMALL_INPUT, EncodingError, encode_column

MISSING = "column 'c': missing value"
UNKNOWN = "column 'c': unknown category"


def _spec(values: list[Any]) -> CampaignSpec:
    return CampaignSpec.model_validate(
        {
            "name": "roundtrip",
            "context": [{"name": "c", "type": "categorical", "values": values}],
            "decision": {"style": {"name": "kind", "type": "categorical", "values": ["a"]}},
            "outcomes": [{"name": "y"}],
            "max_quarantine_fraction": 1.0,
            "min_rows_per_style": {"warn": 1, "fatal": 1},  # frames of a few rows
        }
    )


def _validate(cells: pd.Series, spec: CampaignSpec) -> ValidationReport:
    frame = pd.DataFrame({"c": cells, "kind": "a", "y": 0.0})
    return validate_log(frame, spec)


def _verdicts(report: ValidationReport) -> list[str]:
    """Per input row: "clean", "missing" or "unknown" (the categorical column's only reasons)."""
    out = ["clean"] * report.n_input_rows
    for row, reason in zip(report.quarantine["_row"], report.quarantine["_reason"], strict=True):
        assert reason == MISSING or reason.startswith(UNKNOWN), reason
        out[row] = "missing" if reason == MISSING else "unknown"
    return out


def _encode_one(value: Any, col: CategoricalColumn) -> float | None:
    """The code of one value; None when the encoder refuses it."""
    try:
        return float(encode_column(np.array([value], dtype=object), col)[0])
    except EncodingError:
        return None


# ---------------------------------------------------------------------------- strategies

declared = st.one_of(
    st.text(max_size=6),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6).map(float),
)
spec_values = st.lists(declared, min_size=1, max_size=6, unique_by=canonical_category).filter(
    lambda vs: all(canonical_category(v) is not None for v in vs)
)
others = st.one_of(
    st.none(),
    st.just(np.nan),
    st.just(pd.NA),
    st.sampled_from(["", "  ", "\t", "true", "FALSE", "1.0", " 1", "x"]),
    st.text(max_size=4),
    st.integers(min_value=-3, max_value=3),
    st.floats(min_value=-3, max_value=3),
    st.booleans(),
)


def _spellings(value: Any) -> list[Any]:
    """Ways a log may write a declared value: as declared, as its label, padded, retyped."""
    label = canonical_category(value)
    out = [value, label, f" {label}\t"]
    if label in ("True", "False"):
        truth = label == "True"
        out += [truth, np.bool_(truth), label.lower(), label.upper()]
    elif re.fullmatch(r"-?[0-9]{1,7}", label) and str(int(label)) == label:
        number = int(label)  # at most 7 digits: exact as a float32 too
        out += [number, float(number), np.int64(number), np.float32(number)]
    return out


@st.composite
def columns(draw: st.DrawFn) -> tuple[list[Any], list[Any]]:
    values = draw(spec_values)
    known = [s for v in values for s in _spellings(v)]
    cells = draw(st.lists(st.one_of(st.sampled_from(known), others), min_size=1, max_size=25))
    return values, cells


# ---------------------------------------------------------------------------- properties


@settings(max_examples=100, deadline=None)
@given(columns(), st.booleans())
def test_validation_and_encoding_agree_on_every_cell(column, infer_dtype):
    values, cells = column
    spec = _spec(values)
    col = spec.column("c")
    series = pd.Series(cells) if infer_dtype else pd.Series(cells, dtype=object)
    report = _validate(series, spec)
    verdicts = _verdicts(report)
    clean_labels = iter(report.clean["c"])
    for cell, verdict in zip(series, verdicts, strict=True):
        code = _encode_one(cell, col)
        if verdict == "missing":
            assert code is not None and np.isnan(code), cell
        elif verdict == "unknown":
            assert code is None, cell  # never silently encoded
        else:
            label = next(clean_labels)
            assert code == col.lookup[label] == col.code(cell), cell
            assert _encode_one(label, col) == code  # the clean frame re-encodes the same


@settings(max_examples=40, deadline=None)
@given(columns())
def test_many_rows_encode_like_few(column):
    values, cells = column
    col = _spec(values).column("c")
    many = np.array(cells * (SMALL_INPUT // len(cells) + 1), dtype=object)
    assert len(many) > SMALL_INPUT
    try:
        few = np.concatenate(
            [encode_column(np.array(cells, dtype=object), col)] * (len(many) // len(cells))
        )
    except EncodingError:
        with pytest.raises(EncodingError):
            encode_column(many, col)
        return
    np.testing.assert_array_equal(encode_column(many, col), few)


@settings(max_examples=50, deadline=None)
@given(spec_values)
def test_every_spelling_of_a_declared_value_is_accepted_with_its_code(values):
    spec = _spec(values)
    col = spec.column("c")
    cells = [s for v in values for s in _spellings(v)]
    codes = [code for code, v in enumerate(values) for _ in _spellings(v)]
    report = _validate(pd.Series(cells, dtype=object), spec)
    assert report.quarantine.empty, report.summary()
    assert report.clean["c"].tolist() == [col.values[code] for code in codes]
    np.testing.assert_array_equal(encode_column(np.array(cells, dtype=object), col), codes)


# ---------------------------------------------------------------------------- regressions


def test_boolean_labels_validate_and_encode():
    # Was: validation accepted True for values ["True", "False"], encoding then refused "1".
    spec = _spec(["True", "False"])
    col = spec.column("c")
    cells = pd.Series([True, False, "True", "false", np.True_], dtype=object)
    report = _validate(cells, spec)
    assert report.problems == [], report.summary()
    assert report.clean["c"].tolist() == ["True", "False", "True", "False", "True"]
    expected = [0.0, 1.0, 0.0, 1.0, 0.0]
    assert encode_column(cells.to_numpy(), col).tolist() == expected
    assert encode_column(report.clean["c"].to_numpy(), col).tolist() == expected
    assert encode_column(pd.Series([True, False] * 200), col).tolist() == [0.0, 1.0] * 200


def test_whitespace_only_is_missing_for_both():
    # Was: missing for validation, an unknown category for encoding.
    spec = _spec(["a", "b"])
    col = spec.column("c")
    report = _validate(pd.Series(["a", "   ", "b", ""], dtype=object), spec)
    assert _verdicts(report) == ["clean", "missing", "clean", "missing"]
    codes = encode_column(np.array(["a", "   ", "b", ""], dtype=object), col)
    np.testing.assert_array_equal(codes, [0.0, np.nan, 1.0, np.nan])


def test_numeric_spec_values_match_codes_read_as_numbers():
    spec = _spec([0, 1])
    report = _validate(pd.Series([1.0, 0.0, np.nan, 2.0]), spec)
    assert _verdicts(report) == ["clean", "clean", "missing", "unknown"]
    assert report.clean["c"].tolist() == ["1", "0"]


@pytest.mark.parametrize("stray", ["", "maybe"])
def test_csv_flags_match_whether_or_not_pandas_reads_booleans(stray, tmp_path):
    # "true"/"false" arrive as bools, or as text when another cell is not a boolean.
    text = f"c,kind,y\ntrue,a,0\nFALSE,a,0\n{stray},a,0\n"
    path = tmp_path / "flags.csv"
    path.write_text(text)
    frame = read_csv(path, ",")
    report = validate_log(frame, _spec([True, False]))
    assert report.clean["c"].tolist() == ["True", "False"]
    assert _verdicts(report)[2] == ("missing" if stray == "" else "unknown")
