"""``engage decisions export`` and the input checks of ``engage evaluate``."""

from __future__ import annotations

import pandas as pd
import pytest

from engage.cli import main
from engage.cli.evaluate import logged_data
from engage.contract.spec import CampaignSpec, load_spec
from engage.decisions.store import open_store
from tests.unit.decisions.test_decision_store import record

SPEC = load_spec()


def test_export_command_writes_the_log_and_its_spec(tmp_path, capsys):
    url = f"sqlite:///{tmp_path / 'd.db'}"
    store = open_store(url)
    recs = [record() for _ in range(3)]
    store.write(recs)
    store.merge_outcomes(
        recs[0].decision_id,
        {"conversions": 1.0, "engagement_rate": 2.0, "follower_growth": 0.1, "retention_30d": 30.0},
    )
    store.close()
    out = tmp_path / "exp" / "log.parquet"
    assert (
        main(["decisions", "export", "--url", url, "--out", str(out), "--since", "2020-01-01"]) == 0
    )
    text = capsys.readouterr().out
    assert "wrote 3 decisions" in text and "1 with every outcome" in text
    assert len(pd.read_parquet(out)) == 3
    assert load_spec(out.with_name("log.spec.yaml")).propensity_column == "logged_propensity"
    assert main(["decisions", "export", "--url", url, "--out", str(out), "--complete-only"]) == 0
    assert len(pd.read_parquet(out)) == 1


def test_export_refuses_a_bad_time_naming_it(capsys):
    with pytest.raises(SystemExit) as err:
        main(["decisions", "export", "--out", "x.parquet", "--since", "yesterday"])
    assert err.value.code == 2
    assert "--since" in capsys.readouterr().err


def test_evaluate_needs_recorded_propensities():
    no_propensity = CampaignSpec.model_validate(
        {**SPEC.model_dump(mode="json"), "propensity": None}
    )
    frame = pd.DataFrame({"logged_propensity": [0.5, 1.0]})
    with pytest.raises(ValueError, match="records no propensities"):
        logged_data(None, frame, no_propensity)
    bad = pd.DataFrame({"logged_propensity": [0.5, 0.0, 1.5]})
    with pytest.raises(ValueError, match="2 rows of column 'logged_propensity'"):
        logged_data(None, bad, SPEC)
