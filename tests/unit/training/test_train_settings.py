"""``TrainSettings``: read from ENGAGE_TRAIN_* variables, strict, documented in .env.example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from engage.contract.settings_env import reject_unknown_variables, unknown_variables
from engage.contract.spec import SpecError
from engage.training.settings import (
    ADVANCED,
    GateSettings,
    InputSettings,
    LearningSettings,
    TrackingSettings,
    TrainSettings,
    parse_objective,
    public_settings,
    settings_from_flags,
)

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    import os

    for key in list(os.environ):
        if key.upper().startswith("ENGAGE_TRAIN_"):
            monkeypatch.delenv(key)


def test_values_come_from_prefixed_environment(monkeypatch):
    monkeypatch.setenv("ENGAGE_TRAIN_DATA", "/data/log.parquet")
    monkeypatch.setenv("ENGAGE_TRAIN_TRIALS", "9")
    monkeypatch.setenv("ENGAGE_TRAIN_OBJECTIVE", '{"conversions": 1}')
    s = TrainSettings()
    assert (s.data, s.trials, s.objective) == (Path("/data/log.parquet"), 9, {"conversions": 1.0})


def test_a_misspelt_variable_is_an_error_that_names_it_and_the_known_ones(monkeypatch):
    monkeypatch.setenv("ENGAGE_TRAIN_TRAILS", "9")
    with pytest.raises(ValidationError) as err:
        TrainSettings(data=Path("log.parquet"))
    message = str(err.value)
    assert "ENGAGE_TRAIN_TRAILS" in message
    assert "ENGAGE_TRAIN_TRIALS" in message and "ENGAGE_TRAIN_SEED" in message


def test_flags_win_over_the_environment_and_none_means_not_given(monkeypatch):
    monkeypatch.setenv("ENGAGE_TRAIN_SEED", "4")
    monkeypatch.setenv("ENGAGE_TRAIN_TRIALS", "2")
    s = settings_from_flags(
        {
            "data": "log.csv",
            "seed": 7,
            "trials": None,
            "objective": '{"conversions": 2}',
            "func": print,
        }
    )
    assert (s.seed, s.trials, s.objective) == (7, 2, {"conversions": 2.0})


@pytest.mark.parametrize(
    "text", ["{conversions: 1}", "[1, 2]", '{"conversions": "a lot"}', '{"conversions": true}']
)
def test_objective_flag_must_be_a_json_object_of_numbers(text):
    with pytest.raises(SpecError, match="--objective"):
        parse_objective(text)


def test_env_example_documents_the_public_settings_and_the_reference_all():
    """.env.example lists what users set (the public settings); the advanced and gate ones are
    described by their fields, which the settings reference renders."""
    text = (REPO / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*ENGAGE_TRAIN_([A-Z_]+)=", text, flags=re.MULTILINE))
    assert documented == {name.upper() for name in public_settings()}
    assert len(documented) <= 15
    for name, field in TrainSettings.model_fields.items():
        assert field.description, f"{name} has no description for the settings reference"
    reference = (REPO / "docs" / "reference" / "settings.md").read_text()
    assert "::: engage.training.settings.TrainSettings" in reference


def test_at_most_fifteen_settings_are_for_users_and_each_is_a_train_flag():
    public = public_settings()
    assert len(public) <= 15
    assert not set(public) & (set(ADVANCED) | set(GateSettings.model_fields))
    from engage.cli import build_parser

    train = next(
        a
        for a in build_parser()._subparsers._group_actions[0].choices.values()
        if a.prog.endswith(" train")
    )
    flags = {action.dest for action in train._actions}
    assert set(public) <= flags


@pytest.mark.parametrize(
    "knob", ["MIX_PROTOTYPES", "FOLDS", "ORACLE_ROWS", "REPORT_PICTURE", "PROBE_ROWS"]
)
def test_an_experimenters_knob_is_no_longer_a_variable(monkeypatch, knob):
    monkeypatch.setenv(f"ENGAGE_TRAIN_{knob}", "4")
    with pytest.raises(ValidationError, match=f"ENGAGE_TRAIN_{knob}"):
        TrainSettings(data=Path("log.parquet"))
    with pytest.raises(ValidationError, match="extra"):
        TrainSettings(data=Path("log.parquet"), **{knob.lower(): 4})


STAGES = (InputSettings, LearningSettings, GateSettings, TrackingSettings)


def test_every_setting_belongs_to_one_stage_or_to_the_run():
    owners = [name for stage in STAGES for name in stage.model_fields]
    assert len(owners) == len(set(owners))  # no field in two stages
    assert set(TrainSettings.model_fields) - set(owners) == {"progress", "dask"}


def test_each_stage_receives_only_its_part(monkeypatch):
    monkeypatch.setenv("ENGAGE_TRAIN_SEED", "4")
    s = TrainSettings(data=Path("log.parquet"), trials=2, n_boot=50, force=True, max_input_rows=9)
    parts = {
        LearningSettings: s.learning,
        InputSettings: s.input,
        GateSettings: s.gate,
        TrackingSettings: s.tracking,
    }
    for stage, part in parts.items():
        assert type(part) is stage
        assert part.model_dump() == {name: getattr(s, name) for name in stage.model_fields}
    assert (
        s.learning.seed,
        s.learning.trials,
        s.gate.n_boot,
        s.tracking.force,
        s.input.max_input_rows,
    ) == (4, 2, 50, True, 9)
    # a stage's class reads no environment: tests and benchmarks build one part alone
    assert LearningSettings().seed == 0
    with pytest.raises(ValidationError):
        LearningSettings(n_boot=50)  # not the learning stage's


def test_shared_check_compares_names_case_insensitively():
    env = {
        "engage_train_seed": "1",
        "ENGAGE_TRAIN_SEEDS": "2",
        "ENGAGE_SERVE_PORT": "80",
        "HOME": "/",
    }
    unknown, known = unknown_variables("ENGAGE_TRAIN_", ["seed", "data"], env)
    assert unknown == ["ENGAGE_TRAIN_SEEDS"]
    assert known == ["ENGAGE_TRAIN_DATA", "ENGAGE_TRAIN_SEED"]
    with pytest.raises(ValueError, match=r"unknown setting variable\(s\) \['ENGAGE_TRAIN_SEEDS'\]"):
        reject_unknown_variables("ENGAGE_TRAIN_", ["seed", "data"], env)
    reject_unknown_variables("ENGAGE_TRAIN_", ["seed", "seeds"], env)  # nothing unknown: no error
