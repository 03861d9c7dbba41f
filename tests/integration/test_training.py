"""End-to-end training: real LightGBM fits, a real MLflow store and registry."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow import MlflowClient

from engage import registry
from engage.cli import main
from engage.contract.validation import LogValidationError
from engage.policy import SCHEMA_VERSION
from engage.policy.artifact import flatten
from engage.policy.policy import weighted
from engage.simulation.world import SimulatedWorld, write_log
from engage.training.pipeline import TrainingError, train
from tests.conftest import SHARED, TEST_MODEL, sim_oracle, train_settings

pytestmark = pytest.mark.slow

REQUIRED_METRICS = [
    "ope.learned.dm",
    "ope.learned.ips",
    "ope.learned.snips",
    "ope.learned.dr",
    "ope.learned.dr_low",
    "ope.learned.dr_high",
    "ope.best_constant.dr",
    "ope.logged.observed",
    "overlap.min_logged_propensity",
    "overlap.clipped_rows",
    "overlap.ess.broadcast",
    "overlap.unsupported_share.community",
    "eval.conversions.r2",
    "eval.retention_30d.rmse",
    "true.learned",
    "true.oracle",
    "true.logged",
    "regret.learned",
    "time.outcomes_s",
    "policy.personalized",
]


def champion_version(name: str = TEST_MODEL) -> str | None:
    mv = registry.champion(MlflowClient(), name)
    return None if mv is None else str(mv.version)


def n_versions(name: str) -> int:
    try:
        return len(MlflowClient().search_model_versions(f"name='{name}'"))
    except Exception:
        return 0


def test_run_logs_everything_and_registers_champion(trained) -> None:
    run = MlflowClient().get_run(trained.run_id)
    for name in REQUIRED_METRICS:
        assert name in run.data.metrics, name
    assert run.data.tags["schema_version"] == SCHEMA_VERSION == "5"
    assert run.data.tags["spec_fingerprint"] == trained.policy.spec.fingerprint
    assert "git_sha" in run.data.tags
    assert run.data.params["split"] == "time"
    assert {i.dataset.name for i in run.inputs.dataset_inputs} == {
        "campaigns.parquet:train",
        "campaigns.parquet:eval",
    }
    artifacts = {a.path for a in MlflowClient().list_artifacts(trained.run_id, "plots")}
    assert {
        "plots/propensity_overlap.png",
        "plots/policy_values.png",
        "plots/feature_importance.png",
        "plots/propensity_calibration.png",
        "plots/outcome_fit.png",
    } <= artifacts
    assert trained.version == "1" and trained.promoted
    assert champion_version() == "1"


def test_learned_policy_beats_logged_policy_in_truth(trained) -> None:
    m = trained.metrics
    assert m["true.learned"] > m["true.logged"]
    assert m["regret.learned"] < 1.0
    # the tuning child runs are nested under the parent only when tuning is on
    assert m["policy.candidates"] > 5


def test_registered_model_recommends_exactly_what_the_in_memory_policy_does(
    trained, champion_uri, sim_log
) -> None:
    profiles = pd.read_parquet(sim_log).iloc[:50][trained.policy.spec.context_names]
    loaded = registry.load_registered_policy(champion_uri)
    assert loaded.recommend(profiles) == trained.policy.recommend(profiles)
    pyfunc = mlflow.pyfunc.load_model(champion_uri)
    out = pyfunc.predict(profiles)
    expected = pd.DataFrame([flatten(a) for a in trained.policy.recommend(profiles)])
    pd.testing.assert_frame_equal(out.reset_index(drop=True), expected)


def test_explanations_are_faithful(trained, sim_log) -> None:
    profiles = pd.read_parquet(sim_log).iloc[:20][trained.policy.spec.context_names]
    for answer in trained.policy.recommend(profiles):
        recs, expl = answer.recommendations, answer.explanation
        assert expl is not None
        assert expl.score_difference == pytest.approx(recs[0].score - recs[1].score, abs=1e-6)
        assert expl.contributions_sum == pytest.approx(expl.score_difference, abs=1e-6)
        shown = sum(f.contribution for f in expl.factors) + expl.other_factors
        assert shown == pytest.approx(expl.score_difference, abs=1e-6)
        assert all(f.sentence for f in expl.factors)


def test_second_run_with_other_seed_lines_up_and_promotion_is_judged(
    trained, mlflow_store, sim_log
) -> None:
    second = train(train_settings(sim_log, mlflow_store, seed=11), oracle=sim_oracle(sim_log))
    first_metrics = set(MlflowClient().get_run(trained.run_id).data.metrics)
    second_metrics = set(MlflowClient().get_run(second.run_id).data.metrics)
    assert first_metrics == second_metrics
    assert second.version == "2"
    assert champion_version() == ("2" if second.promoted else "1")
    assert "champion v1" in second.promotion_reason
    run = MlflowClient().get_run(second.run_id)
    assert run.data.tags["promoted"] == str(second.promoted).lower()


def test_force_moves_the_alias(mlflow_store, sim_log) -> None:
    name = "force-policy"
    train(train_settings(sim_log, mlflow_store, model_name=name))
    forced = train(train_settings(sim_log, mlflow_store, model_name=name, force=True, seed=5))
    assert forced.promoted and forced.promotion_reason.startswith("forced")
    assert champion_version(name) == forced.version


def runs_in(experiment: str = "engage-tests") -> int:
    exp = mlflow.get_experiment_by_name(experiment)
    return len(mlflow.search_runs([exp.experiment_id])) if exp else 0


@pytest.mark.parametrize(
    "breakage",
    ["empty", "single_style", "bad_column"],
)
def test_bad_logs_fail_before_anything_is_logged(trained, mlflow_store, tmp_path, breakage) -> None:
    log = SimulatedWorld("hard").simulate(400, seed=9)
    if breakage == "empty":
        log = log.iloc[:0]
    elif breakage == "single_style":
        log = log.assign(style="broadcast")
    else:
        log = log.drop(columns=["followers"])
    path = tmp_path / "bad.parquet"
    write_log(log, path)
    before_runs, before_versions = runs_in(), n_versions(TEST_MODEL)
    champion_before = champion_version()
    with pytest.raises(LogValidationError) as err:
        train(train_settings(path, mlflow_store))
    message = str(err.value)
    assert {
        "empty": "no data rows",
        "single_style": "have no clean rows",
        "bad_column": "followers",
    }[breakage] in message
    assert runs_in() == before_runs
    assert n_versions(TEST_MODEL) == before_versions
    assert champion_version() == champion_before


def test_failure_mid_run_registers_nothing_and_keeps_the_alias(
    trained, mlflow_store, sim_log, monkeypatch
) -> None:
    champion_before = champion_version()
    versions_before = n_versions(TEST_MODEL)

    def boom(*args, **kwargs):
        raise RuntimeError("disk full while logging the model")

    monkeypatch.setattr(registry, "log_policy_model", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        train(train_settings(sim_log, mlflow_store, force=True))
    assert n_versions(TEST_MODEL) == versions_before
    assert champion_version() == champion_before
    exp = mlflow.get_experiment_by_name("engage-tests")
    last = mlflow.search_runs([exp.experiment_id], order_by=["start_time DESC"], max_results=1)
    assert last.iloc[0]["status"] == "FAILED"


def test_cli_train_prints_summary(mlflow_store, sim_log, capsys) -> None:
    code = main(
        [
            "train",
            "--data",
            str(sim_log),
            "--experiment",
            "engage-tests",
            "--model-name",
            "cli-policy",
            "--trials",
            "1",
            "--no-progress",
            "--objective",
            '{"conversions": 1}',
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "Policy value on the gate's rows" in out and "normalised regret" in out
    # the decision's figures, as the headline metrics and the report give them (issue 30)
    assert "shipped policy over what marketers did, as the decision judged it" in out
    assert "in MLflow's UI: http://127.0.0.1:5000/#/experiments/" in out
    assert "registered version 1" in out
    assert "objective: conversions 1, engagement_rate 0, follower_growth 0, retention_30d 0" in out
    assert "quarantined 0 of 4,000 rows" in out
    # the registered model ranks by the objective it was trained for, unless told otherwise
    policy = registry.load_registered_policy("models:/cli-policy/1")
    assert policy.objective == {"conversions": 1.0}
    np.testing.assert_array_equal(policy.weights(), [1.0, 0.0, 0.0, 0.0])
    run = MlflowClient().get_run(MlflowClient().get_model_version("cli-policy", "1").run_id)
    assert json.loads(run.data.params["objective_weights"]) == {
        "conversions": 1.0,
        "engagement_rate": 0.0,
        "follower_growth": 0.0,
        "retention_30d": 0.0,
    }
    # the Optuna trial was a nested child run of the training run
    exp = mlflow.get_experiment_by_name("engage-tests")
    children = mlflow.search_runs(
        [exp.experiment_id], filter_string="tags.mlflow.parentRunId != ''"
    )
    assert len(children) == 1  # --trials 1: one nested trial run
    assert children.iloc[0]["tags.mlflow.runName"] == "trial-0"
    assert np.isfinite(children.iloc[0]["metrics.tuning.loss"])


def test_cli_train_reports_validation_errors(mlflow_store, tmp_path, capsys) -> None:
    path = tmp_path / "broken.csv"
    SimulatedWorld("hard").simulate(300, seed=1).drop(columns=["style"]).to_csv(path, index=False)
    code = main(["train", "--data", str(path), "--experiment", "engage-tests", "--no-progress"])
    err = capsys.readouterr().err
    assert code == 1
    assert "style" in err and "nothing was trained or registered" in err


@pytest.mark.skipif(
    not (SHARED / "datasets").exists(), reason="shared/ datasets not beside the repo"
)
def test_facebook_example_trains_end_to_end(mlflow_store, tmp_path) -> None:
    data = SHARED / "datasets" / "facebook_metrics" / "dataset_Facebook.csv"
    spec = Path(__file__).resolve().parents[2] / "examples" / "facebook_metrics.yaml"
    # no experiment or model name given: both derive from the spec's name (one model per spec)
    settings = train_settings(data, mlflow_store, spec=spec, experiment=None, model_name=None)
    result = train(settings)
    assert result.version == "1" and result.promoted
    client = MlflowClient()
    experiment = client.get_experiment(result.experiment_id)
    assert experiment.name == "engage-facebook_metrics"
    assert experiment.tags[registry.EXPERIMENT_KIND_TAG] == "custom_model_development"
    run = client.get_run(result.run_id)
    assert run.info.run_name == "dataset_Facebook.csv · seed 0"
    assert experiment.tags[registry.DESCRIPTION_TAG].startswith(
        "engage training runs on the facebook_metrics campaign log"
    )
    # the Facebook file's outcome models explain little (issue 30): the answer says so
    answer = result.policy.recommend(
        pd.DataFrame(
            [{"Page total likes": 139441, "Post Month": 12, "Post Weekday": 4, "Post Hour": 3}]
        ),
        top_k=2,
    )[0]
    assert answer.fit is not None and answer.fit.weak
    assert answer.policy.confirmed_gain is not None
    assert run.data.params["model_name"] == "engage-facebook_metrics"
    model = client.get_registered_model("engage-facebook_metrics")
    assert str(model.aliases[registry.CHAMPION]) == "1"
    assert "Recommends" in model.description and "facebook_metrics" in model.description
    assert main(["export-model", "--spec", str(spec), "--out", str(tmp_path / "fb")]) == 0
    # the empty Paid cell, and (issue 12) the one post with 6,334 interactions, an outlier
    assert result.validation is not None and len(result.validation.quarantine) == 2
    assert "true.oracle" not in result.metrics  # real data: no oracle
    answers = result.policy.recommend(
        pd.read_csv(data, sep=";").iloc[:3][result.policy.spec.context_names]
    )
    assert answers[0].recommendations[0].style in {"Photo", "Status", "Link", "Video"}
    assert np.isfinite(result.metrics["ope.learned.dr"])


def test_single_style_spec_is_refused(mlflow_store, tmp_path) -> None:
    spec_text = (
        Path(__file__).resolve().parents[2]
        / "src"
        / "engage"
        / "contract"
        / "specs"
        / "simulated.yaml"
    ).read_text()
    spec_text = spec_text.replace(
        "values: [broadcast, conversational, customer_care, thought_leadership, community]",
        "values: [broadcast]",
    )
    spec = tmp_path / "one.yaml"
    spec.write_text(spec_text)
    log = SimulatedWorld("hard").simulate(300, seed=1).assign(style="broadcast")
    path = tmp_path / "one.parquet"
    write_log(log, path)
    with pytest.raises(TrainingError, match="single style"):
        train(train_settings(path, mlflow_store, spec=spec))


def test_shared_calls_give_the_numbers_of_separate_ones(trained, sim_log) -> None:
    """``recommend`` scores the typical choice in the candidates' LightGBM call and explains the
    style corrections once per profile: both must equal computing each on its own."""
    policy = trained.policy
    profiles = pd.read_parquet(sim_log).iloc[:12][policy.spec.context_names]
    context = policy.builder.encode_context(profiles)
    weights = policy.weights()
    answers = policy.recommend_context(context, top_k=2)
    assert answers == policy.recommend(profiles, top_k=2)
    # the typical choice: the cluster's typical action of the profile's likeliest style
    typical_rows = np.hstack([context, policy._typical_rows(context, policy.propensities(context))])
    typical = weighted(policy.predict_outcomes(typical_rows), weights)
    rows = []
    for i, answer in enumerate(answers):
        top = answer.recommendations[0]
        assert top.lift_vs_typical == pytest.approx(top.predicted_objective - typical[i], abs=1e-12)
        shown = [r.candidate_index for r in answer.recommendations]
        rows.append(policy.builder.cross(context[[i]], policy.candidates.encoded[shown]))
    rows = np.vstack(rows)
    per_row = policy.contributions(rows, weights)
    per_profile = policy.contributions(rows, weights, np.repeat(np.arange(len(answers)), 2))
    np.testing.assert_allclose(per_profile, per_row, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        per_row.sum(1), weighted(policy.predict_outcomes(rows), weights), atol=1e-9
    )
