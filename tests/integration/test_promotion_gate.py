"""The promotion gate refuses a model the data cannot explain: one ``conversions`` value of
1e12 (which validation's own outlier check is bypassed to let through) makes the policy's
values and predictions leave the data's range, and the champion stays, even with ``--force``."""

from __future__ import annotations

import io

import pytest
from mlflow import MlflowClient
from rich.console import Console

from engage import registry
from engage.reporting.summary import print_summary
from engage.training import pipeline
from engage.training.pipeline import train
from tests.conftest import train_settings

pytestmark = pytest.mark.slow

MODEL = "gate-policy"


def poisoning(real_validate_input):
    """The pipeline's validation step, then one 1e12 ``conversions`` slipped into the earliest
    clean row (the training side of the time split), past whatever outlier checks exist."""

    def validate_input(settings, spec):
        report = real_validate_input(settings, spec)
        clean = report.clean.copy()
        clean.loc[clean[spec.timestamp].idxmin(), "conversions"] = 1e12
        report.clean = clean
        return report

    return validate_input


def test_poisoned_outcome_is_refused_even_with_force(mlflow_store, sim_log, monkeypatch) -> None:
    clean = train(train_settings(sim_log, mlflow_store, model_name=MODEL))
    assert clean.promoted
    client = MlflowClient()
    assert client.get_run(clean.run_id).data.tags["plausibility"] == "ok"

    monkeypatch.setattr(pipeline, "validate_input", poisoning(pipeline.validate_input))
    poisoned = train(train_settings(sim_log, mlflow_store, model_name=MODEL, seed=1, force=True))
    assert (
        poisoned.validation is not None and poisoned.validation.clean["conversions"].max() == 1e12
    )

    assert not poisoned.promoted
    assert str(registry.champion(client, MODEL).version) == clean.version
    assert poisoned.promotion_reason.startswith("refused by the plausibility gate: ")
    assert "outside" in poisoned.promotion_reason
    tags = client.get_run(poisoned.run_id).data.tags
    assert tags["plausibility"] == "implausible"
    assert tags["promoted"] == "false" and tags["promotion_decision"] == "keep"
    assert tags["plausibility_reason"] in tags["promotion_reason"]
    # registered for inspection, and marked so in the registry
    assert client.get_model_version(MODEL, poisoned.version).tags["plausibility"] == "implausible"

    out = io.StringIO()
    print_summary(poisoned, Console(file=out, width=400))
    assert (
        f"registered version {poisoned.version}: not promoted — refused by the plausibility gate"
        in out.getvalue()
    )
