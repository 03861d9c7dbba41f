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

from engage.contract.categories import canonical_category, factorize_categories
from engage.contract.spec import CampaignSpec, CategoricalColumn, NumericColumn

SMALL_INPUT = 256


class EncodingError(ValueError):
    """A value cannot be encoded (unknown category, missing column)."""


def encode_column(values: pd.Series | np.ndarray, col: CategoricalColumn) -> np.ndarray:
    """Codes of a categorical column (float, so it can share a matrix with numeric features).

    A value is looked up by its :func:`~engage.contract.categories.canonical_category` label,
    the rule validation applies, so every value validation accepts has a code (``1``, ``1.0``
    and ``" 1"`` are the label ``"1"``; ``True`` and ``"true"`` are ``"True"``). Missing
    values (None, NaN, blank text) become NaN, as validation counts them missing.

    Raises:
        EncodingError: a present value's label is not one of the column's values.
    """
    lookup = col.lookup
    if len(values) <= SMALL_INPUT:  # a request's few rows: plain Python beats pandas' fixed costs
        labels = [canonical_category(v) for v in values]
        unknown = [label for label in labels if label is not None and label not in lookup]
        if unknown:
            raise _not_allowed(col, len(unknown), unknown)
        return np.array([np.nan if x is None else lookup[x] for x in labels], dtype=float)
    # Many rows: canonicalise each distinct value once, then map the per-row label codes.
    factors = factorize_categories(values)
    label_codes = np.array([lookup.get(x, -1) for x in factors.labels] + [np.nan], dtype=float)
    codes: np.ndarray = label_codes[factors.codes]  # label code -1 (missing) takes the trailing NaN
    bad = codes == -1
    if bad.any():
        unknown = [x for x, code in zip(factors.labels, label_codes, strict=False) if code == -1]
        raise _not_allowed(col, int(bad.sum()), unknown)
    return codes


def _not_allowed(col: CategoricalColumn, count: int, labels: list[str]) -> EncodingError:
    shown = sorted(set(labels))[:5]
    return EncodingError(
        f"column {col.name!r}: {count} value(s) not allowed {shown} (allowed: {col.values})"
    )


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

    def _declaration(self, name: str) -> NumericColumn | CategoricalColumn | None:
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
        labels: np.ndarray = np.asarray(self.spec.styles, dtype=object)[
            np.asarray(codes, dtype=int)
        ]
        return labels
