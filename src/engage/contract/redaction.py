"""Credentials never leave the process: one redaction for URIs and any text that may hold them.

Tracking URIs carry passwords (``http://user:PW@host``, ``postgresql://user:PW@db/mlflow``,
``...?password=PW``), and MLflow, HTTP servers and database drivers echo them in their error
messages, sometimes decoded, quoted or escaped. Every place that shows a URI or an error to a
person or a log (API responses, log lines, MLflow params and tags, the console) passes it
through :func:`redact` first. It masks in three passes:

1. **Known secrets, anywhere.** The passwords and tokens engage knows of are replaced wherever
   they occur, whatever characters they hold: those of the URIs in ``MLFLOW_TRACKING_URI``,
   ``MLFLOW_REGISTRY_URI``, ``ENGAGE_SERVE_TRACKING_URI`` and ``ENGAGE_DECISIONS_URL``, the
   values of ``MLFLOW_TRACKING_PASSWORD``, ``MLFLOW_TRACKING_TOKEN`` and the serving tokens,
   and any URI or secret given to :func:`remember_uri` / :func:`remember_secret` (the
   decision store's ``--url``, the serving tracking URI). Each is also masked in the forms a
   driver may echo: percent-encoded (either case of hex), decoded, ``repr``- and
   JSON-escaped, and as the base64 of ``user:password`` in a Basic header. Secrets shorter
   than :data:`MIN_SECRET_CHARS` are not masked anywhere (masking every ``a`` in a message
   hides nothing); they are still masked where a URI or a header puts them (pass 2 and 3).
2. **URIs, by their structure.** Every ``scheme://userinfo@host`` is split as
   :func:`urllib.parse.urlsplit` splits it (the authority ends at the first ``/``, ``?``,
   ``#`` or blank, the user information at its last ``@``); the password (or a lone token)
   is masked, the user name, host and path stay, so the message still says where.
3. **Secret fields.** ``password=``, ``token=``, ... values (query strings, DSNs) and the
   values of ``Authorization``, ``Proxy-Authorization``, ``Cookie`` and API-key headers, in
   raw HTTP (``Authorization: Basic ...``), Python reprs and JSON.

An unknown password holding ``/``, ``?``, ``#`` or a blank in free text can defeat pass 2
(nothing tells where it ends); that is why pass 1 exists, and why engage registers every URI
it is given.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
from collections.abc import Iterable
from functools import lru_cache
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

MASK = "***"
#: Known secrets shorter than this are masked only where a URI or a header puts them.
MIN_SECRET_CHARS = 4
#: A URI's lone user information (no password) at least this long is taken for a token.
MIN_TOKEN_CHARS = 16

#: Environment variables holding URIs whose passwords are secrets.
SECRET_URI_VARIABLES = (
    "MLFLOW_TRACKING_URI",
    "MLFLOW_REGISTRY_URI",
    "ENGAGE_SERVE_TRACKING_URI",
    "ENGAGE_DECISIONS_URL",
)
#: Environment variables whose whole value is a secret (comma-separated lists too).
SECRET_VARIABLES = (
    "MLFLOW_TRACKING_PASSWORD",
    "MLFLOW_TRACKING_TOKEN",
    "ENGAGE_SERVE_ADMIN_TOKEN",
    "ENGAGE_SERVE_API_KEYS",
)
_USER_VARIABLE = "MLFLOW_TRACKING_USERNAME"
_SECRET_KEYS = (
    "password",
    "passwd",
    "pwd",
    "token",
    "access_token",
    "refresh_token",
    "secret",
    "client_secret",
    "api_key",
    "apikey",
    "key",
    "sig",
    "signature",
)
_HEADER_KEYS = ("authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key")

_remembered: set[str] = set()
_remembered_lock = threading.Lock()

# Pass 2: scheme://userinfo@ ; the greedy class stops at the authority's end and backtracks
# to its last "@", as urlsplit does.
_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/?#\s]*)@")
# scheme:/user:password@host: a URI that went through pathlib.Path lost a slash. Only with a
# password: ``models:/NAME@ALIAS`` has the same shape and is no secret.
_MANGLED_USERINFO = re.compile(
    r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*:/)(?!/)(?P<userinfo>[^/@:?#\s]+:[^/?#\s]*)@"
)
# Pass 3: ?password=...&token=... (query strings and key=value text); a quoted value to its
# closing quote.
_SECRET_PARAM = re.compile(
    r"(?P<key>\b(?:" + "|".join(_SECRET_KEYS) + r")=)"
    r"(?:(?P<q>['\"])(?P<quoted>.*?)(?P=q)|['\"]?(?P<value>[^&\s'\";,)]+))",
    flags=re.IGNORECASE | re.DOTALL,
)
# "password": "..." / 'token': '...' in JSON and Python reprs.
_SECRET_ITEM = re.compile(
    r"(?P<key>(?P<kq>['\"])(?:" + "|".join(_SECRET_KEYS) + r")(?P=kq)\s*:\s*)"
    r"(?P<q>['\"])(?P<quoted>(?:\\.|(?!(?P=q)).)*)(?P=q)",
    flags=re.IGNORECASE | re.DOTALL,
)
# Authorization: Basic ...  (to the end of the line), 'Authorization': 'Basic ...' (to the
# closing quote), "authorization": "Bearer ..." ; the scheme word stays.
_HEADER = re.compile(
    r"(?P<key>\b(?:" + "|".join(_HEADER_KEYS) + r")\b['\"]?\s*[:=]\s*)"
    r"(?:(?P<q>['\"])(?P<quoted>(?:\\.|(?!(?P=q)).)*)(?P=q)|(?P<value>[^\r\n]*))",
    flags=re.IGNORECASE,
)
_SCHEME_WORD = re.compile(
    r"^(?P<word>(?:Basic|Bearer|Token|Digest|Negotiate|AWS4-HMAC-SHA256)\s+)", re.I
)


def remember_uri(uri: object) -> None:
    """Mask the password, token and secret query values of ``uri`` in every later
    :func:`redact`, wherever they occur (call it for every URI engage is given)."""
    for secret in secrets_of_uri(str(uri)):
        remember_secret(secret)


def remember_secret(secret: object) -> None:
    """Mask ``secret`` (and its encoded forms) in every later :func:`redact`."""
    text = str(secret)
    if text:
        with _remembered_lock:
            _remembered.add(text)


def forget_remembered() -> None:
    """Forget what :func:`remember_uri` and :func:`remember_secret` were given (for tests)."""
    with _remembered_lock:
        _remembered.clear()


def secrets_of_uri(uri: str) -> list[str]:
    """The password (or lone token) and the secret query values of ``uri``, as written in it.

    Parsed twice: as :func:`urllib.parse.urlsplit` reads it (user information to the last
    ``@`` of the authority) and as SQLAlchemy's ``make_url`` reads it (the password to the
    first ``@``), so either reading of an unencoded ``@`` is covered.
    """
    found: list[str] = []
    head, sep, rest = uri.partition("://")
    if not sep:
        return found
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    readings = [authority.rpartition("@")[0]]  # urlsplit's
    if "@" in rest:  # an unencoded "/", "?" or "#" in the password: to the first or last "@"
        readings += [rest.partition("@")[0], rest.rpartition("@")[0]]
    for i, userinfo in enumerate(readings):
        user, colon, password = userinfo.partition(":")
        if i == 0 and userinfo:
            # A lone user information is a token (https://TOKEN@host) or a user name
            # (postgresql://engage@db): only a long one is masked everywhere, so that a user
            # called "engage" does not mask every "engage" of a message.
            if colon or len(user) >= MIN_TOKEN_CHARS:
                found.append(password if colon else user)
            else:
                continue
        elif colon and "/" not in user:
            found.append(password)
        else:
            continue
        if colon and password:  # the Basic header an HTTP client builds from it
            pair = f"{unquote(user)}:{unquote(password)}".encode("utf-8", "surrogatepass")
            found.append(base64.b64encode(pair).decode("ascii"))
    try:
        query = urlsplit(uri).query
    except ValueError:
        query = ""
    for key, value in parse_qsl(query, keep_blank_values=False):
        if key.lower() in _SECRET_KEYS:
            found.append(value)
    return [s for s in found if s]


def _environment_secrets() -> tuple[str, ...]:
    found: list[str] = []
    for name in SECRET_URI_VARIABLES:
        if os.environ.get(name):
            found += secrets_of_uri(os.environ[name])
    for name in SECRET_VARIABLES:
        value = os.environ.get(name, "")
        if value:
            found.append(value)
            found += [part.strip() for part in value.split(",") if part.strip()]
    password = os.environ.get("MLFLOW_TRACKING_PASSWORD")
    if password:
        user = os.environ.get(_USER_VARIABLE, "")
        found.append(base64.b64encode(f"{user}:{password}".encode()).decode())
    return tuple(found)


def _forms(secret: str) -> set[str]:
    """``secret`` as it may be echoed: as given, decoded, percent-encoded, escaped."""
    forms = {secret}
    decoded = unquote(secret)
    for plain in (secret, decoded):
        forms.add(plain)
        try:
            encoded_forms = [
                quote(plain, safe=""),
                quote(plain),
                quote_plus(plain),
                quote(plain, safe="/:"),
            ]
        except UnicodeEncodeError:  # a lone surrogate: no URI can hold it encoded
            encoded_forms = []
        for encoded in encoded_forms:
            forms.add(encoded)
            forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), encoded))
        forms.add(repr(plain)[1:-1])
        forms.add(json.dumps(plain)[1:-1])
        forms.add(json.dumps(plain, ensure_ascii=False)[1:-1])
        forms.add(plain.encode("unicode_escape", "backslashreplace").decode("ascii"))
    return {f for f in forms if len(f) >= MIN_SECRET_CHARS}


@lru_cache(maxsize=64)
def _known_pattern(secrets: frozenset[str]) -> re.Pattern[str] | None:
    forms: set[str] = set()
    for secret in secrets:
        if len(secret) >= MIN_SECRET_CHARS:
            forms |= _forms(secret)
    if not forms:
        return None
    # longest first: a secret that contains another is masked whole
    return re.compile("|".join(re.escape(f) for f in sorted(forms, key=lambda f: (-len(f), f))))


def known_secrets() -> frozenset[str]:
    """The secrets :func:`redact` masks anywhere: from the environment and remembered."""
    with _remembered_lock:
        remembered = set(_remembered)
    return frozenset(remembered.union(_environment_secrets()))


def _mask_userinfo(match: re.Match[str]) -> str:
    user, sep, _ = match["userinfo"].partition(":")
    kept = f"{user}:{MASK}" if sep else MASK
    return f"{match['scheme']}{kept}@"


def _mask_param(match: re.Match[str]) -> str:
    quote_char = match["q"] or ""
    return f"{match['key']}{quote_char}{MASK}{quote_char}"


def _mask_header(match: re.Match[str]) -> str:
    quote_char = match["q"] or ""
    value = match["quoted"] if match["q"] else match["value"]
    word = _SCHEME_WORD.match(value or "")
    kept = word["word"] if word else ""
    return f"{match['key']}{quote_char}{kept}{MASK}{quote_char}"


def redact_known(text: str, secrets: Iterable[str] | None = None) -> str:
    """``text`` with every known secret (or those of ``secrets``) masked, in any form."""
    pattern = _known_pattern(frozenset(secrets) if secrets is not None else known_secrets())
    return text if pattern is None else pattern.sub(MASK, text)


def redact(text: object) -> str:
    """``text`` with every known secret, the password (or token) of every URI, every
    ``password=``-like value and every ``Authorization``-like header value replaced by
    ``***``; the user name, host and path stay, so the message still says where."""
    out = redact_known(str(text))
    out = _USERINFO.sub(_mask_userinfo, out)
    out = _MANGLED_USERINFO.sub(_mask_userinfo, out)
    out = _SECRET_PARAM.sub(_mask_param, out)
    out = _SECRET_ITEM.sub(_mask_param, out)
    return _HEADER.sub(_mask_header, out)
