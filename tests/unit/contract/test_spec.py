"""Loading a campaign spec: the shipped default loads, broken spec files fail clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import yaml

from engage.contract.spec import (
    CampaignSpec,
    CategoricalColumn,
    SpecError,
    default_spec_path,
    load_spec,
)


def _write(tmp_path: Path, raw: dict | str) -> Path:
    path = tmp_path / "spec.yaml"
    path.write_text(raw if isinstance(raw, str) else yaml.safe_dump(raw))
    return path


def _simulated_raw() -> dict:
    return yaml.safe_load(default_spec_path().read_text())


def test_default_spec_loads():
    spec = load_spec()
    assert spec.name == "simulated_world"
    assert spec.styles == [
        "broadcast",
        "conversational",
        "customer_care",
        "thought_leadership",
        "community",
    ]
    assert spec.declared_columns[:3] == ["campaign_id", "started_at", "logged_propensity"]
    assert len(spec.mix_columns) == 5
    assert load_spec(default_spec_path()).fingerprint == spec.fingerprint


def test_missing_spec_file(tmp_path):
    with pytest.raises(SpecError, match="spec file not found: .*nope.yaml"):
        load_spec(tmp_path / "nope.yaml")


def test_bad_yaml(tmp_path):
    path = _write(tmp_path, "name: x\ncontext: [unclosed\n")
    with pytest.raises(SpecError, match="is not valid YAML"):
        load_spec(path)


def test_top_level_must_be_a_mapping(tmp_path):
    with pytest.raises(SpecError, match="mapping at the top level"):
        load_spec(_write(tmp_path, "- just\n- a list\n"))


def test_duplicate_column_names(tmp_path):
    raw = _simulated_raw()
    raw["passthrough"] = [*raw["passthrough"], "employees"]
    with pytest.raises(SpecError, match=r"declared more than once: \['employees'\]"):
        load_spec(_write(tmp_path, raw))


def test_unknown_key_is_rejected(tmp_path):
    raw = _simulated_raw()
    raw["extra_colums"] = "ignore"  # typo
    with pytest.raises(SpecError, match="extra_colums"):
        load_spec(_write(tmp_path, raw))


def test_min_above_max(tmp_path):
    raw = _simulated_raw()
    raw["context"][2] = {"name": "employees", "type": "numeric", "min": 10, "max": 1}
    with pytest.raises(SpecError, match="'employees': min 10.0 > max 1.0"):
        load_spec(_write(tmp_path, raw))


def test_an_objective_replaces_the_default_weights():
    spec = load_spec()
    assert spec.outcome_weights()["engagement_rate"] == 0.5
    weights = spec.outcome_weights({"conversions": 2.0})
    assert weights == {
        "conversions": 2.0,
        "engagement_rate": 0.0,
        "follower_growth": 0.0,
        "retention_30d": 0.0,
    }


@pytest.mark.parametrize(
    ("objective", "message"),
    [
        ({"conversions": -1.0}, r"must be >= 0.*\['conversions'\]"),
        ({"conversions": 0.0}, "every outcome weight 0"),
    ],
)
def test_an_objective_without_a_positive_weight_is_refused(objective, message):
    with pytest.raises(SpecError, match=message):
        load_spec().outcome_weights(objective)


def test_unknown_outcome_in_weight_override():
    spec = load_spec()
    with pytest.raises(SpecError, match=r"unknown outcome\(s\) in objective: \['revenue'\]"):
        spec.outcome_weights({"revenue": 1.0})


# ---------------------------------------------------------------------------- categorical values


def _categorical(values) -> dict:
    raw = _simulated_raw()
    raw["decision"]["extra"] = [{"name": "flag", "type": "categorical", "values": values}]
    return raw


@pytest.mark.parametrize(
    ("values", "labels"),
    [
        ([0, 1], ["0", "1"]),
        ([1.0, 2.0, 3.5], ["1", "2", "3.5"]),
        ([True, False], ["True", "False"]),
        (["True", "False"], ["True", "False"]),
        (["true", "false"], ["True", "False"]),
        ([" a ", "b"], ["a", "b"]),
    ],
)
def test_categorical_values_are_stored_as_labels(tmp_path, values, labels):
    spec = load_spec(_write(tmp_path, _categorical(values)))
    col = spec.column("flag")
    assert col.values == labels
    assert dict(col.lookup) == {label: i for i, label in enumerate(labels)}


def test_yaml_numbers_and_booleans_in_values(tmp_path):
    text = """
name: flags
context:
  - {name: paid, type: categorical, values: [0, 1]}
  - {name: weekday, type: categorical, values: [1, 2, 3, 4, 5, 6, 7]}
decision:
  style: {name: boosted, type: categorical, values: [true, false]}
outcomes: [{name: y}]
"""
    spec = load_spec(_write(tmp_path, text))
    assert spec.column("paid").values == ["0", "1"]
    assert spec.column("weekday").values[-1] == "7"
    assert spec.styles == ["True", "False"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ([1, "1"], r"'flag': values are not unique \(compared as labels\): \['1'\]"),
        ([True, "true"], r"not unique .*\['True'\]"),
        (["a", "  "], r"'flag': values\[1\] is empty"),
        (["a", None], r"values\[1\] is empty"),
        (["a", {"b": 1}], r"values\.1: Input should be a valid string"),
        ([], r"values: List should have at least 1 item"),
        ("ab", r"values: Input should be a valid list"),
    ],
)
def test_bad_categorical_values_are_refused(tmp_path, values, message):
    with pytest.raises(SpecError, match=message):
        load_spec(_write(tmp_path, _categorical(values)))


def test_code_looks_up_any_spelling_of_a_label():
    col = CategoricalColumn(name="paid", values=[0, 1])
    assert [col.code(v) for v in (0, 1, 1.0, "1", " 0 ", np.int64(1))] == [0, 1, 1, 1, 0, 1]
    for bad in (2, "yes", True, None, "  "):
        with pytest.raises(ValueError, match="'paid'"):
            col.code(bad)


def test_lookup_follows_a_copy_with_new_values():
    col = CategoricalColumn(name="c", values=["a", "b"])
    assert col.lookup["b"] == 1
    assert col.model_copy(update={"values": ["b", "a"]}).lookup["b"] == 0
    # a column built without validation still looks up canonical labels
    raw = CategoricalColumn.model_construct(name="c", values=[" a", "true"])
    assert dict(raw.lookup) == {"a": 0, "True": 1}


def test_an_export_of_recorded_decisions_has_the_originals_policy_fingerprint():
    """A version trained on the export is compared with a champion trained on the original log:
    the export declares its propensities and carries its exploration columns, which change the
    spec's fingerprint but not the policies it describes; other outcome weights do."""
    from engage.decisions.export import export_spec

    spec = load_spec()
    exported = export_spec(spec)
    assert exported.fingerprint != spec.fingerprint
    assert exported.policy_fingerprint == spec.policy_fingerprint
    raw = spec.model_dump(mode="json")
    raw["outcomes"][0]["weight"] = raw["outcomes"][0]["weight"] + 1.0
    assert CampaignSpec.model_validate(raw).policy_fingerprint != spec.policy_fingerprint
