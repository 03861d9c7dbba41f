"""Issue #31 item 2: the errors of ``train``, ``export-model``, ``recommend`` and ``decisions
export --url`` show no password, whatever it holds, even when the tracking server's 500 page
echoes the request's headers."""

from __future__ import annotations

import base64
import os
from urllib.parse import quote

import mlflow
import pytest

from engage.cli import main
from engage.contract.redaction import forget_remembered
from tests.servers import echo_headers_server, free_port

PASSWORDS = ["it's@a\"s3cret", "p@ss:w/rd?x#y%z é€", "quote'only"]
# In-process runs get the small grid from tests.conftest (training's constants, not settings).
FAST = {"ENGAGE_TRAIN_N_BOOT": "50", "ENGAGE_TRAIN_TRIALS": "0"}


def forms(password: str, user: str = "engage") -> list[str]:
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    return [password, quote(password, safe=""), quote(password), basic]


@pytest.fixture
def tracking_at(monkeypatch, tmp_path):
    """Point MLFLOW_TRACKING_URI at an echoing server with a password; restore MLflow after."""
    before = mlflow.get_tracking_uri()
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.chdir(tmp_path)
    forget_remembered()
    with echo_headers_server() as port:

        def point(password: str, encoded: bool) -> None:
            shown = quote(password, safe="") if encoded else password
            monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://engage:{shown}@127.0.0.1:{port}")

        yield point
    mlflow.set_tracking_uri(before)
    forget_remembered()


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("encoded", [True, False])
@pytest.mark.parametrize(
    "argv",
    [
        ["export-model", "--out", "exported"],
        ["recommend", "--profile", "{}"],
    ],
)
def test_tracking_errors_show_no_password(tracking_at, capfd, password, encoded, argv):
    tracking_at(password, encoded)
    assert main(argv) == 1
    out, err = capfd.readouterr()
    assert "error" in err
    for form in forms(password):
        assert form not in out + err, form


@pytest.mark.parametrize("password", PASSWORDS[:2])
def test_train_errors_show_no_password(tracking_at, capfd, monkeypatch, sim_log, password):
    for key, value in FAST.items():
        monkeypatch.setenv(key, value)
    tracking_at(password, encoded=True)
    assert main(["train", "--data", str(sim_log), "--no-progress"]) == 1
    out, err = capfd.readouterr()
    assert "error: MLflow" in err
    for form in forms(password):
        assert form not in out + err, form


@pytest.mark.parametrize("password", PASSWORDS)
@pytest.mark.parametrize("encoded", [True, False])
def test_decisions_export_url_errors_show_no_password(capfd, tmp_path, password, encoded):
    forget_remembered()
    shown = quote(password, safe="") if encoded else password
    for url in (
        f"postgresql+psycopg://engage:{shown}@127.0.0.1:{free_port()}/decisions",
        f"postgresql+psycopg://engage:{shown}@127.0.0.1:notaport/decisions",
        f"nosuchdialect://engage:{shown}@host/db",
    ):
        code = main(["decisions", "export", "--out", str(tmp_path / "d.parquet"), "--url", url])
        out, err = capfd.readouterr()
        assert code == 1 and "error" in err, err
        for form in forms(password):
            assert form not in out + err, (url, err)
    forget_remembered()


def test_an_unexpected_error_is_printed_redacted(monkeypatch, capfd):
    monkeypatch.setenv("MLFLOW_TRACKING_PASSWORD", "an'y@secret")

    def boom(args):
        raise KeyError("driver said: password an'y@secret refused")

    import engage.cli as cli

    parser = cli.build_parser()
    args = parser.parse_args(["export-model", "--out", "x"])
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    monkeypatch.setattr(args, "func", boom, raising=False)
    monkeypatch.setattr(parser, "parse_args", lambda argv=None: args)
    assert main([]) == 1
    _, err = capfd.readouterr()
    assert "an'y@secret" not in err and "KeyError" in err
    assert os.environ["MLFLOW_TRACKING_PASSWORD"]
