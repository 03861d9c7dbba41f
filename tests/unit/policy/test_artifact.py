"""The model artifact: plain files, a format version, a loader that refuses what it cannot read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from engage.policy import artifact
from engage.policy.artifact import (
    ArtifactError,
    load_policy,
    parse_params,
    read_format,
    save_policy,
)

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "policy"


@pytest.fixture(scope="module")
def policy():
    return load_policy(FIXTURE)


def test_the_committed_fixture_is_of_the_current_format_with_the_action_search(policy):
    assert read_format(FIXTURE) == artifact.FORMAT_VERSION == 5
    assert policy.clusters.n_clusters > 1 and (policy.baseline >= 0).any()
    assert (np.asarray(policy.candidates.kind) == "search").any()


def test_a_saved_policy_is_written_in_the_current_format(policy, tmp_path):
    save_policy(policy, tmp_path / "p")
    assert read_format(tmp_path / "p") == artifact.FORMAT_VERSION


def test_the_artifact_is_plain_files_only(policy, tmp_path):
    save_policy(policy, tmp_path / "p")
    names = sorted(
        str(p.relative_to(tmp_path / "p")) for p in (tmp_path / "p").rglob("*") if p.is_file()
    )
    assert names == sorted(str(p.relative_to(FIXTURE)) for p in FIXTURE.rglob("*") if p.is_file())
    assert not [n for n in names if n.endswith((".pkl", ".pickle", ".joblib"))]
    assert (
        json.loads((tmp_path / "p" / "policy.json").read_text())["spec"]["name"]
        == "simulated_world"
    )


def test_save_then_load_gives_the_same_answers(policy, tmp_path):
    save_policy(policy, tmp_path / "p")
    again = load_policy(tmp_path / "p")
    profiles = pd.read_parquet(FIXTURE.parent / "snapshot_profiles.parquet").head(20)
    assert (
        again.choose(again.builder.encode_context(profiles)).tolist()
        == policy.choose(policy.builder.encode_context(profiles)).tolist()
    )
    for name in ("models/propensity.txt", "models/outcome-0.txt"):
        assert (tmp_path / "p" / name).read_text() == (FIXTURE / name).read_text(), name
    save_policy(again, tmp_path / "q")
    assert (tmp_path / "q" / "policy.json").read_text() == (
        tmp_path / "p" / "policy.json"
    ).read_text()


def _copy(tmp_path: Path) -> Path:
    out = tmp_path / "copy"
    shutil.copytree(FIXTURE, out)
    return out


@pytest.mark.parametrize(
    ("version", "hint"),
    [(3, "older engage.*retrain"), (4, "older engage.*retrain"), (6, "upgrade engage")],
)
def test_another_format_version_is_refused_with_what_to_do(tmp_path, version, hint):
    folder = _copy(tmp_path)
    (folder / "format.json").write_text(
        json.dumps({"format": "engage-policy", "format_version": version})
    )
    with pytest.raises(
        ArtifactError, match=rf"format version {version}; this engage reads version 5 only.*{hint}"
    ):
        load_policy(folder)


def test_a_mode_this_engage_does_not_know_is_refused(tmp_path):
    folder = _copy(tmp_path)
    fields = json.loads((folder / "policy.json").read_text())
    (folder / "policy.json").write_text(json.dumps({**fields, "mode": "bandit"}))
    with pytest.raises(ArtifactError, match="mode is 'bandit'; expected one of .*logging"):
        load_policy(folder)


def _without(folder: Path, field: str) -> None:
    fields = json.loads((folder / "policy.json").read_text())
    del fields[field]
    (folder / "policy.json").write_text(json.dumps(fields))


@pytest.mark.parametrize("field", sorted(artifact.POLICY_FIELDS))
def test_every_field_is_required_and_a_missing_one_is_named(tmp_path, field):
    folder = _copy(tmp_path)
    _without(folder, field)
    with pytest.raises(
        ArtifactError,
        match=rf"no field '{field}', which artifact format {artifact.FORMAT_VERSION} requires.*retrain",
    ):
        load_policy(folder)


@pytest.mark.parametrize(
    ("field", "inner"), [("clusters", "centroids"), ("style_corrections", "offsets")]
)
def test_a_missing_inner_field_is_named(tmp_path, field, inner):
    folder = _copy(tmp_path)
    fields = json.loads((folder / "policy.json").read_text())
    del fields[field][inner]
    (folder / "policy.json").write_text(json.dumps(fields))
    with pytest.raises(
        ArtifactError,
        match=rf"policy.json has no '{inner}', which artifact format {artifact.FORMAT_VERSION} requires",
    ):
        load_policy(folder)


def test_an_unknown_field_is_refused(tmp_path):
    folder = _copy(tmp_path)
    fields = json.loads((folder / "policy.json").read_text())
    (folder / "policy.json").write_text(json.dumps({**fields, "new_thing": 1}))
    with pytest.raises(ArtifactError, match="does not define: 'new_thing'.*retrain"):
        load_policy(folder)


@pytest.mark.parametrize("column", artifact.CANDIDATE_EXTRAS)
def test_a_missing_candidate_column_is_named(tmp_path, column):
    folder = _copy(tmp_path)
    frame = pd.read_parquet(folder / "candidates.parquet").drop(columns=[column])
    frame.to_parquet(folder / "candidates.parquet", index=False)
    with pytest.raises(
        ArtifactError,
        match=rf"no column '{column}', which artifact format {artifact.FORMAT_VERSION}",
    ):
        load_policy(folder)


def test_the_fields_saved_are_the_fields_read(policy, tmp_path):
    save_policy(policy, tmp_path / "p")
    assert set(json.loads((tmp_path / "p" / "policy.json").read_text())) == artifact.POLICY_FIELDS


def test_a_pickled_artifact_of_engage_0_1_is_refused(tmp_path):
    (tmp_path / "policy.pkl").write_bytes(b"not read")
    with pytest.raises(ArtifactError, match="format 1, a pickle.*retrain"):
        load_policy(tmp_path)


def test_a_folder_that_is_not_an_artifact_is_refused(tmp_path):
    with pytest.raises(ArtifactError, match="holds no engage policy"):
        load_policy(tmp_path)
    (tmp_path / "format.json").write_text("{")
    with pytest.raises(ArtifactError, match="unreadable"):
        load_policy(tmp_path)
    (tmp_path / "format.json").write_text(json.dumps({"format": "other", "format_version": 2}))
    with pytest.raises(ArtifactError, match="is not 'engage-policy'"):
        load_policy(tmp_path)


def test_a_missing_model_file_is_named(tmp_path):
    folder = _copy(tmp_path)
    (folder / "models" / "propensity.txt").unlink()
    with pytest.raises(ArtifactError, match="models/propensity.txt"):
        load_policy(folder)


def test_a_corrupt_policy_file_is_refused(tmp_path):
    folder = _copy(tmp_path)
    (folder / "policy.json").write_text("[")
    with pytest.raises(ArtifactError, match="incomplete or corrupt"):
        load_policy(folder)


def test_predict_params_default_and_parse():
    assert parse_params(None) == {"top_k": 3, "explain": True, "objective": None}
    got = parse_params({"top_k": 5, "explain": False, "objective": '{"conversions": 1}'})
    assert got == {"top_k": 5, "explain": False, "objective": {"conversions": 1}}
    with pytest.raises(ValueError, match="not JSON"):
        parse_params({"objective": "{"})
    with pytest.raises(ValueError, match="must be a JSON object"):
        parse_params({"objective": "[1]"})


def test_the_pyfunc_adapter_takes_params(policy):
    model = artifact._load_pyfunc(str(FIXTURE))
    assert model.get_raw_model().spec.name == policy.spec.name
    profiles = pd.read_parquet(FIXTURE.parent / "snapshot_profiles.parquet").head(3)
    out = model.predict(profiles, params={"top_k": 1, "explain": False})
    assert len(out) == 3
    assert all(len(json.loads(r)["recommendations"]) == 1 for r in out["result_json"])


def test_the_pyfunc_refuses_what_the_api_refuses_naming_each_row(policy):
    # issue 30 item 4: innovation 3.0 and employees -5 were answered, an unknown category
    # failed the whole frame with an EncodingError that named nothing
    from engage.contract.profiles import ProfileError
    from engage.serving.examples import EXAMPLE_PROFILE

    frame = pd.DataFrame([EXAMPLE_PROFILE] * 4, index=[10, 11, 12, 13])
    frame.loc[11, "innovation"] = 3.0
    frame.loc[12, "employees"] = -5
    frame.loc[13, "industry"] = "crypto"
    with pytest.raises(ProfileError) as caught:
        artifact.PolicyPyfunc(policy).predict(frame)
    assert isinstance(caught.value, ValueError)
    text = str(caught.value)
    assert text.startswith("3 of 4 profiles do not fit the model's spec")
    assert "row 11, column 'innovation': Input should be less than or equal to 1" in text
    assert "row 12, column 'employees': Input should be greater than or equal to" in text
    assert "row 13, column 'industry': Input should be one of" in text
    assert [(p.row, p.column) for p in caught.value.problems] == [
        (11, "innovation"),
        (12, "employees"),
        (13, "industry"),
    ]
    # the good rows alone are answered; numbers as text are read as a table's cells are
    good = frame.loc[[10]].assign(shareability="0.8")
    assert len(artifact.PolicyPyfunc(policy).predict(good)) == 1
