"""What an unauthenticated answer may show about the server: no credentials, no filesystem paths.

Load errors and model URIs reach ``/readyz``, ``/v1/model``, 503 bodies and every
recommendation's ``model`` reference, which anyone who can reach the port reads. Credentials
are masked by :func:`engage.contract.redaction.redact`; absolute paths (bare, ``file:`` or
``sqlite:``) are cut to their last component, which still tells an operator which file or
directory is meant without describing the server's layout. Logs and the authenticated admin
answer keep the full (redacted) text.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from engage.contract.redaction import redact

PATH_MASK = "<path>"

_PATH_CHARS = r"[^\s'\"`<>(),;:|]+"
# file:/// and sqlite:/// addresses: the whole address is a local path.
_FS_URI = re.compile(rf"\b(?:file|sqlite):/+(?P<path>{_PATH_CHARS})", flags=re.IGNORECASE)
# A bare absolute path: a "/" (or "~/") that does not continue a word, a URL or a scheme
# ("http://host:5000/api", "models:/name/3" and "1/3" are left alone).
_ABS_PATH = re.compile(rf"(?<![\w.:/~\-<>])~?/(?P<path>{_PATH_CHARS})")


def _masked(match: re.Match[str]) -> str:
    name = PurePosixPath(match["path"].rstrip("/")).name
    return f"{PATH_MASK}/{name}" if name else PATH_MASK


def strip_paths(text: str) -> str:
    """``text`` with every absolute filesystem path replaced by ``<path>/<last component>``."""
    return _ABS_PATH.sub(_masked, _FS_URI.sub(_masked, text))


def public_text(text: object) -> str:
    """``text`` as an unauthenticated caller may read it: credentials masked, paths cut."""
    return strip_paths(redact(text))
