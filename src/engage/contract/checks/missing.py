"""Which text cells count as missing: empty or whitespace-only strings, as for categories."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pandas.api.types import is_string_dtype


def blank_cells(values: pd.Series) -> np.ndarray:
    """Boolean mask of the string cells that are empty or whitespace only.

    Args:
        values: Raw cells of one column.

    Returns:
        One bool per cell; always False for non-text columns and for non-string cells.
    """
    if not len(values) or not (is_string_dtype(values.dtype) or values.dtype == object):
        return np.zeros(len(values), dtype=bool)
    try:
        stripped = values.str.strip()
    except AttributeError:  # an object column holding no strings at all
        return np.zeros(len(values), dtype=bool)
    return (stripped == "").to_numpy(dtype=bool, na_value=False)
