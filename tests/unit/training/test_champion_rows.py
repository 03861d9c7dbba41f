"""The champion is compared with a new version on the evaluation rows it served itself (rows it
never trained on) when the log says which model served each row and there are enough of them."""

from __future__ import annotations

import numpy as np

from engage.ope import LoggedData
from engage.training.promotion import FRESH_ROWS, _served_by_champion


def test_the_rows_the_champion_served_are_kept_when_there_are_enough() -> None:
    assert _served_by_champion(None, "m/3") is None  # the log does not say: every row
    few = np.array(["m/3"] * (FRESH_ROWS - 1) + ["m/2"] * 500 + [None] * 50, dtype=object)
    assert _served_by_champion(few, "m/3") is None
    enough = np.array(["m/3"] * FRESH_ROWS + ["m/2"] * 500 + [None] * 50, dtype=object)
    kept = _served_by_champion(enough, "m/3")
    assert kept is not None and kept.dtype == bool and int(kept.sum()) == FRESH_ROWS
    assert not kept[FRESH_ROWS:].any()  # another version's rows and the original log's


def test_a_logs_rows_taken_are_their_own_log() -> None:
    data = LoggedData(
        reward=np.arange(5.0),
        style=np.array([0, 1, 2, 1, 0]),
        propensity=np.full(5, 0.5),
        q_logged=np.zeros(5),
    )
    part = data.take(np.array([True, False, True, False, True]))
    assert part.n == 3
    np.testing.assert_array_equal(part.reward, [0.0, 2.0, 4.0])
    np.testing.assert_array_equal(part.style, [0, 2, 0])
