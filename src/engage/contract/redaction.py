"""Credentials never leave the process: one redaction for URIs and any text that may hold them.

Tracking URIs carry passwords (``http://user:PW@host``, ``postgresql://user:PW@db/mlflow``,
``...?password=PW``), and MLflow and database drivers echo them in their error messages. Every
place that shows a URI or an error to a person or a log (API responses, log lines, MLflow
params and tags, the console) passes it through :func:`redact` first.
"""

from __future__ import annotations

import re

MASK = "***"

# scheme://user:password@host  ->  scheme://user:***@host ; scheme://token@host -> scheme://***@host
_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/@\s'\"]+)@")
# scheme:/user:password@host: a URI that went through pathlib.Path lost a slash. Only with a
# password: ``models:/NAME@ALIAS`` has the same shape and is no secret.
_MANGLED_USERINFO = re.compile(
    r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*:/)(?P<userinfo>[^/@:\s'\"]+:[^/@\s'\"]+)@"
)
# ?password=...&token=...  (query strings and key=value text)
_SECRET_PARAM = re.compile(
    r"(?P<key>\b(?:password|passwd|pwd|token|access_token|secret|api_key|apikey|key)=)"
    r"(?P<value>[^&\s'\"]+)",
    flags=re.IGNORECASE,
)


def _mask_userinfo(match: re.Match[str]) -> str:
    user, sep, _ = match["userinfo"].partition(":")
    kept = f"{user}:{MASK}" if sep else MASK
    return f"{match['scheme']}{kept}@"


def redact(text: object) -> str:
    """``text`` with the password (or token) of every URI and every ``password=``-like value
    replaced by ``***``; the user name, host and path stay, so the message still says where."""
    out = _USERINFO.sub(_mask_userinfo, str(text))
    out = _MANGLED_USERINFO.sub(_mask_userinfo, out)
    return _SECRET_PARAM.sub(lambda m: f"{m['key']}{MASK}", out)
