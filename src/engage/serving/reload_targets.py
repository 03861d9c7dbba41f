"""Which model URIs ``POST /v1/admin/reload`` may load.

Loading a model runs its code (a pyfunc imports the ``code`` folder it ships), so a reload
target is an allow-list, not a free URI: a version or alias of the configured model name
(``models:/NAME@ALIAS``, ``models:/NAME/VERSION``), the configured URI itself, or a directory
inside one of ``ENGAGE_SERVE_RELOAD_ALLOWED_DIRS`` (none by default). Paths are resolved
before the check, so ``..`` and symbolic links cannot step outside an allowed root.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from engage.registry.uris import parse_registered_uri, registered_name


def configured_name(configured_uri: str) -> str | None:
    """The registered model name of the configured URI (None for a directory or ``runs:/``)."""
    return registered_name(configured_uri)


def _local_path(uri: str) -> Path | None:
    """The filesystem path a URI names (a bare path or ``file://``), None for other schemes."""
    if uri.startswith("file:"):
        parsed = urlparse(uri)
        if parsed.netloc not in ("", "localhost"):
            return None
        return Path(unquote(parsed.path))
    if "://" in uri or uri.startswith(("models:", "runs:")):
        return None
    return Path(uri)


def _inside(path: Path, roots: Sequence[Path]) -> bool:
    resolved = path.expanduser().resolve()
    for root in roots:
        base = root.expanduser().resolve()
        if resolved == base or base in resolved.parents:
            return True
    return False


def reload_refusal(uri: str, configured_uri: str, allowed_dirs: Sequence[Path]) -> str | None:
    """Why ``uri`` may not be loaded by an admin reload, or None when it may.

    Args:
        uri: the requested model URI.
        configured_uri: ``ENGAGE_SERVE_MODEL_URI`` (or ``--model-uri``) of this process.
        allowed_dirs: ``ENGAGE_SERVE_RELOAD_ALLOWED_DIRS``.

    Returns:
        A sentence for the 403 answer, or None.
    """
    if uri == configured_uri:
        return None
    name = configured_name(configured_uri)
    if (parts := parse_registered_uri(uri)) is not None:
        if name is not None and parts.name == name:
            return None
        return (
            f"only versions and aliases of the configured model {name!r} may be loaded "
            f"(models:/{name}@ALIAS or models:/{name}/VERSION)"
            if name
            else "the configured model is not a registered model; only directories under "
            "ENGAGE_SERVE_RELOAD_ALLOWED_DIRS may be loaded"
        )
    path = _local_path(uri)
    allowed = (
        f"a version or alias of {name!r} (models:/{name}@ALIAS, models:/{name}/VERSION)"
        if name
        else "the configured URI"
    )
    if path is None:
        return f"only {allowed} or a directory under ENGAGE_SERVE_RELOAD_ALLOWED_DIRS may be loaded"
    if not allowed_dirs:
        return (
            f"loading a directory is disabled (ENGAGE_SERVE_RELOAD_ALLOWED_DIRS is empty); "
            f"only {allowed} may be loaded"
        )
    if not _inside(path, allowed_dirs) or not path.expanduser().resolve().is_dir():
        return "the directory is not inside ENGAGE_SERVE_RELOAD_ALLOWED_DIRS (or does not exist)"
    return None
