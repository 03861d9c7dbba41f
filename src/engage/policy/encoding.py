"""The one transformation from raw log rows to model inputs, shared by training and serving.

Categories are encoded explicitly as their position in the spec's list of values (never as a
pandas ``category`` dtype, which MLflow signatures record as strings and LightGBM then
rejects). Numeric columns pass through as float64; missing values stay NaN (LightGBM handles
them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engage.contract.spec import CampaignSpec, CategoricalColumn

SMALL_INPUT = 256


class EncodingError(ValueError):
    """A value cannot be encoded (unknown category, missing column)."""


def encode_column(values: pd.Series | np.ndarray, col: CategoricalColumn) -> np.ndarray:
    """Codes of a categorical column (float, so it can share a matrix with numeric features).

    Raises:
        EncodingError: a value is not one of the column's allowed values.
    """
    lookup = {v: float(i) for i, v in enumerate(col.values)}
    if len(values) <= SMALL_INPUT:  # a request's few rows: plain Python beats pandas' fixed costs
        raw = list(values)
        codes_list = [lookup.get(_canonical(v), np.nan) for v in raw]  # type: ignore[arg-type]
        bad_values = [v for v, c in zip(raw, codes_list, strict=True) if np.isnan(c) and _canonical(v) is not None]
        if bad_values:
            unknown = sorted({str(_canonical(v)) for v in bad_values})[:5]
            raise EncodingError(
                f"column {col.name!r}: {len(bad_values)} value(s) not allowed {unknown} "
                f"(allowed: {col.values})"
            )
        return np.array(codes_list, dtype=float)
    series = pd.Series(np.asarray(values, dtype=object))
    # Canonicalise each distinct value once (1, 1.0 and "1" are the same label), then map.
    canon = {u: _canonical(u) for u in series.unique()}
    codes = series.map({u: lookup.get(c, np.nan) if c is not None else np.nan for u, c in canon.items()})
    bad = codes.isna() & series.map(lambda u: canon[u] is not None) if codes.isna().any() else None
    if bad is not None and bad.any():
        unknown = sorted({str(canon[u]) for u in series[bad].unique()})[:5]
        raise EncodingError(
            f"column {col.name!r}: {int(bad.sum())} value(s) not allowed {unknown} "
            f"(allowed: {col.values})"
        )
    return codes.to_numpy(dtype=float)


def _canonical(value: object) -> object:
    """Map 1, 1.0 and "1" to the same category label."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value)


@dataclass
class FeatureBuilder:
    """Turns profile columns and decision columns into the LightGBM feature matrix.

    Feature order: context columns (spec order), then the style code, the mix shares and
    the extra decisions. ``categorical_indices`` lists the positions LightGBM should treat
    as categorical.
    """

    spec: CampaignSpec
    context_names: list[str] = field(init=False)
    decision_names: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.context_names = self.spec.context_names
        self.decision_names = self.spec.decision_names

    @property
    def feature_names(self) -> list[str]:
        """Names of the model's input columns, in order."""
        return [*self.context_names, *self.decision_names]

    @property
    def categorical_indices(self) -> list[int]:
        """Positions of categorical features in :attr:`feature_names`."""
        return [
            j
            for j, name in enumerate(self.feature_names)
            if isinstance(self._declaration(name), CategoricalColumn)
        ]

    def _encode(self, df: pd.DataFrame, names: list[str]) -> np.ndarray:
        missing = [n for n in names if n not in df.columns]
        if missing:
            raise EncodingError(f"missing column(s): {missing}")
        out = np.empty((len(df), len(names)), dtype=float)
        for j, name in enumerate(names):
            col = self._declaration(name)
            values = df[name]
            if isinstance(col, CategoricalColumn):
                out[:, j] = encode_column(values.to_numpy(), col)
            elif pd.api.types.is_numeric_dtype(values.dtype):
                out[:, j] = values.to_numpy(dtype=float)
            else:
                out[:, j] = pd.to_numeric(values, errors="raise").to_numpy(dtype=float)
        return out

    def _declaration(self, name: str):
        if name in self.spec.mix_columns:
            return None
        return self.spec.column(name)

    def encode_context(self, df: pd.DataFrame) -> np.ndarray:
        """Context matrix (n x n_context) of the profile columns."""
        return self._encode(df, self.context_names)

    def encode_rows(self, rows: Sequence[Sequence[Any]]) -> np.ndarray:
        """Context matrix of profiles given as rows of values in context-column order.

        The same codes as :meth:`encode_context` of the same rows as a frame, without building
        one: for a request's few validated profiles the frame costs more than the encoding.
        """
        out = np.empty((len(rows), len(self.context_names)), dtype=float)
        for j, name in enumerate(self.context_names):
            values = [row[j] for row in rows]
            col = self._declaration(name)
            if isinstance(col, CategoricalColumn):
                out[:, j] = encode_column(np.asarray(values, dtype=object), col)
            else:
                out[:, j] = np.asarray(values, dtype=float)
        return out

    def encode_decisions(self, df: pd.DataFrame) -> np.ndarray:
        """Decision matrix (n x n_decision) of the style, mix and extra decision columns."""
        return self._encode(df, self.decision_names)

    def build(self, df: pd.DataFrame) -> np.ndarray:
        """Full feature matrix for logged rows (context and the logged decisions)."""
        return np.hstack([self.encode_context(df), self.encode_decisions(df)])

    @staticmethod
    def cross(context: np.ndarray, decisions: np.ndarray) -> np.ndarray:
        """Every profile paired with every candidate: (n * k) rows, profile-major."""
        n, k = len(context), len(decisions)
        return np.hstack([np.repeat(context, k, axis=0), np.tile(decisions, (n, 1))])

    def decode_style(self, codes: np.ndarray) -> np.ndarray:
        """Style labels for style codes."""
        return np.asarray(self.spec.styles, dtype=object)[np.asarray(codes, dtype=int)]
