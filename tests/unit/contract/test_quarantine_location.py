"""Quarantined rows never land beside the data: ``engage validate`` writes them under the
project's output folder, and training writes no file at all (the run logs them)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from engage.cli import main
from engage.contract.quarantine import QUARANTINE_DIR, default_quarantine_path
from engage.simulation.world import SimulatedWorld, write_log


@pytest.fixture
def read_only_data(tmp_path) -> Path:
    """A log with 5 unknown industries, in a folder nobody may write to."""
    folder = tmp_path / "shared-datasets"
    folder.mkdir()
    log = SimulatedWorld("hard").simulate(300, seed=4)
    log.loc[log.index[:5], "industry"] = "crypto"
    path = write_log(log, folder / "campaigns.csv")
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    yield path
    folder.chmod(stat.S_IRWXU)


def test_default_path_is_under_the_output_folder() -> None:
    assert default_quarantine_path("/data/x/log.parquet") == Path(
        "engage-output/quarantine/log.quarantine.csv"
    )
    assert default_quarantine_path("log.csv", "out") == Path("out/log.quarantine.csv")
    assert not QUARANTINE_DIR.is_absolute()


def test_validate_of_a_read_only_folder_writes_to_the_output_folder(
    read_only_data, tmp_path, monkeypatch, capsys
) -> None:
    work = tmp_path / "project"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["validate", "--data", str(read_only_data)]) == 0
    out = capsys.readouterr().out
    written = work / QUARANTINE_DIR / "campaigns.quarantine.csv"
    assert "quarantined rows written to engage-output/quarantine/campaigns.quarantine.csv" in out
    assert len(written.read_text().splitlines()) == 1 + 5  # header and the 5 rows
    assert sorted(p.name for p in read_only_data.parent.iterdir()) == ["campaigns.csv"]


def test_an_explicit_quarantine_path_is_used(read_only_data, tmp_path, capsys) -> None:
    target = tmp_path / "elsewhere" / "bad.csv"
    assert main(["validate", "--data", str(read_only_data), "--quarantine", str(target)]) == 0
    assert f"quarantined rows written to {target}" in capsys.readouterr().out
    assert target.exists()


def test_training_validation_writes_no_quarantine_file(
    read_only_data, tmp_path, monkeypatch
) -> None:
    from engage.contract.spec import load_spec
    from engage.training.intake import validate_input
    from engage.training.settings import TrainSettings

    monkeypatch.chdir(tmp_path)
    settings = TrainSettings(data=read_only_data, max_quarantine_share=0.5)
    report = validate_input(settings, load_spec())
    assert len(report.quarantine) == 5  # kept in the report, for the run to log
    assert sorted(p.name for p in read_only_data.parent.iterdir()) == ["campaigns.csv"]
    assert not (tmp_path / "engage-output").exists()
