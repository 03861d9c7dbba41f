"""The training summary reads whole at 80 columns and when piped: every interval printed
entire, no line wider than the console, no column left empty (``true`` only with an oracle)."""

from __future__ import annotations

import io

from rich.console import Console

from engage.reporting.summary import format_interval, print_summary
from engage.training.pipeline import TrainResult

# wide numbers, as on the Facebook log (interactions per post in the thousands)
REAL = {
    "learned": {
        "dm": (1300.912, 1187.034, 1412.551),
        "ips": (1454.806, 1002.317, 1999.918),
        "snips": (1398.201, 1101.448, 1703.009),
        "dr": (-1146.937, -1987.012, -512.834),
    },
    "best_constant": {"dm": (1250.5, 1100.25, 1400.75), "dr": (1333.3, 1201.1, 1465.5)},
    "logged": {"observed": (1290.123, 1180.456, 1399.789)},
}


def _render(values: dict, promoted: bool = False, **console) -> str:
    result = TrainResult(
        promoted=promoted,
        run_id="0123456789abcdef0123456789abcdef",
        experiment_id="1",
        tracking_uri="sqlite:///m.db",
        policy=None,
        metrics={},
        values=values,
        mode="constant",
        decision_reason="not significant",
        objective_weights={"total_interactions": 1.0},
    )
    out = io.StringIO()
    print_summary(result, Console(file=out, **console))
    return out.getvalue()


def _intervals(values: dict) -> list[str]:
    return [
        format_interval(lo, hi)
        for ests in values.values()
        for est, (_, lo, hi) in ests.items()
        if est != "true"
    ]


def test_every_interval_appears_whole_at_80_columns() -> None:
    text = _render(REAL, width=80)
    for interval in _intervals(REAL):
        assert interval in text, f"{interval} cut or wrapped:\n{text}"
    table = text.split("┏", 1)[1].split("└", 1)[0]
    assert max(len(line) for line in table.splitlines()) <= 80


def test_no_empty_true_column_without_an_oracle() -> None:
    text = _render(REAL, width=80)
    assert "true" not in text.lower().split("\npolicy ")[0]


def test_true_values_appear_with_an_oracle() -> None:
    values = {name: dict(ests) for name, ests in REAL.items()}
    values["learned"]["true"] = (1375.25, 1375.25, 1375.25)
    text = _render(values, width=80)
    assert "1375.250" in text and "exact (oracle)" in text
    for interval in _intervals(values):
        assert interval in text


def test_piped_output_is_plain_text_at_80_columns() -> None:
    # a StringIO is not a terminal: what `engage train | tee` gets (no colour codes)
    text = _render(REAL)
    assert "\x1b[" not in text
    for interval in _intervals(REAL):
        assert interval in text


def test_only_a_promoted_policy_is_said_shipped() -> None:
    # a version that was not promoted (lost to the champion, or the gate kept the logging
    # policy) does not serve: the summary said "policy shipped" above "not promoted"
    assert "policy chosen (not promoted): constant" in _render(REAL, width=120)
    assert "policy shipped" not in _render(REAL, width=120)
    assert "policy shipped: constant" in _render(REAL, promoted=True, width=120)
