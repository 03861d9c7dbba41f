"""Which URIs an admin reload may load: the configured name's versions and aliases, the
configured URI, and directories inside the allow-listed roots (resolved, so no escape)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engage.serving.reload_targets import configured_name, reload_refusal
from engage.serving.settings import ServeSettings

CONFIGURED = "models:/engage-policy@champion"


@pytest.fixture
def roots(tmp_path: Path) -> dict[str, Path]:
    root = tmp_path / "exports"
    (root / "v2").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    (root / "escape").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    return {"root": root, "base": tmp_path}


def test_the_configured_name_is_read_from_registry_uris():
    assert configured_name(CONFIGURED) == "engage-policy"
    assert configured_name("models:/engage-policy/4") == "engage-policy"
    assert configured_name("/srv/exports/v1") is None


@pytest.mark.parametrize(
    "uri",
    [CONFIGURED, "models:/engage-policy@challenger", "models:/engage-policy/12"],
)
def test_versions_and_aliases_of_the_configured_name_are_allowed(uri):
    assert reload_refusal(uri, CONFIGURED, ()) is None


@pytest.mark.parametrize(
    "uri",
    [
        "models:/other@champion",
        "models:/other/1",
        "models:/engage-policy/latest",
        "models:/m-0123456789abcdef",
        "runs:/0123/policy",
        "s3://bucket/model",
        "https://example.invalid/model",
        "file://remote-host/srv/model",
    ],
)
def test_other_uris_are_refused_with_a_reason(uri, roots):
    reason = reload_refusal(uri, CONFIGURED, (roots["root"],))
    assert reason is not None and "engage-policy" in reason


def test_directories_only_inside_an_allowed_root(roots):
    root, base = roots["root"], roots["base"]
    allowed = (root,)
    assert reload_refusal(str(root / "v2"), CONFIGURED, allowed) is None
    assert reload_refusal((root / "v2").as_uri(), CONFIGURED, allowed) is None
    for escape in (base / "elsewhere", root / "v2" / ".." / ".." / "elsewhere", root / "escape"):
        assert "not inside" in str(reload_refusal(str(escape), CONFIGURED, allowed))
    assert "not inside" in str(reload_refusal(str(root / "missing"), CONFIGURED, allowed))
    assert "disabled" in str(reload_refusal(str(root / "v2"), CONFIGURED, ()))


def test_a_directory_configuration_allows_only_itself_and_allowed_roots(roots):
    configured = str(roots["root"] / "v2")
    assert reload_refusal(configured, configured, ()) is None
    assert "not a registered model" in str(reload_refusal("models:/x@champion", configured, ()))


def test_allowed_roots_are_read_from_one_variable_like_path(monkeypatch):
    monkeypatch.setenv("ENGAGE_SERVE_RELOAD_ALLOWED_DIRS", "/srv/a:/srv/b, /srv/c")
    assert ServeSettings().reload_allowed_dirs == (Path("/srv/a"), Path("/srv/b"), Path("/srv/c"))
    monkeypatch.delenv("ENGAGE_SERVE_RELOAD_ALLOWED_DIRS")
    assert ServeSettings().reload_allowed_dirs == ()
