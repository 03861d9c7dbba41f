"""Domain errors and their one JSON shape, mapped to HTTP in one place.

Every error response is ``{"error": {"code", "message", "details": [{"field", "message"}]}}``.
Bad input is a 4xx with the offending field named; anything unexpected is logged with its
traceback and answered as a bare ``internal_error`` (no stack trace leaves the process).
An error body stays small whatever the input: at most :data:`MAX_DETAILS` details (then one
saying how many more problems there are), each message at most :data:`MAX_MESSAGE_CHARS`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger("serving")

TRAIN_HINT = (
    "train one with `make run`, or `engage train --data <log.parquet>`, then reload "
    "(POST /v1/admin/reload) or wait for the alias poll"
)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    502: "bad_gateway",
    503: "model_not_ready",
}


MAX_DETAILS = 50
MAX_MESSAGE_CHARS = 300
MAX_FIELDS_IN_MESSAGE = 10


class ApiError(Exception):
    """An error with a status, a stable code, a message and optional field details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[dict[str, str | None]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)
        self.headers = headers


class ModelNotReady(ApiError):
    """No model is loaded (503)."""

    def __init__(self, reason: str | None = None) -> None:
        message = "no model is loaded"
        if reason:
            message += f" ({reason})"
        super().__init__(503, "model_not_ready", f"{message}; {TRAIN_HINT}")


def error_body(code: str, message: str, details: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
    """The one error shape."""
    return {"error": {"code": code, "message": message, "details": list(details)}}


def error_response(
    status: int,
    code: str,
    message: str,
    details: Iterable[dict[str, Any]] = (),
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON response in the one error shape."""
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


def field_path(loc: Sequence[str | int], prefix: str = "") -> str:
    """``("profiles", 3, "industry")`` -> ``profiles[3].industry``."""
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def clip(text: str, limit: int = MAX_MESSAGE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, marked when cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _message(err: dict[str, Any]) -> str:
    msg = str(err.get("msg", "invalid value"))
    if err.get("type") == "extra_forbidden":
        return "unknown field (not allowed)"
    if err.get("type") == "json_invalid":
        return "request body is not valid JSON"
    return clip(msg)


def _clip_or_none(text: str | None) -> str | None:
    return None if text is None else clip(text)


def cap_details(details: Sequence[dict[str, str | None]]) -> list[dict[str, str | None]]:
    """The first :data:`MAX_DETAILS` details, then one counting the rest; messages clipped."""
    kept = [
        {"field": _clip_or_none(d.get("field")), "message": clip(str(d.get("message")))}
        for d in details[:MAX_DETAILS]
    ]
    if len(details) > MAX_DETAILS:
        kept.append({"field": None, "message": f"{len(details) - MAX_DETAILS:,} more problems"})
    return kept


def validation_details(
    errors: Iterable[dict[str, Any]], prefix: str = ""
) -> list[dict[str, str | None]]:
    """Field-named details of pydantic errors, located under ``prefix``."""
    details = []
    for err in errors:
        loc = list(err.get("loc", ()))
        if loc and loc[0] == "body":
            loc = loc[1:]
        if err.get("type") == "json_invalid":
            loc = []  # the position inside the text is not a field
        details.append(
            {
                "field": field_path(loc, prefix) or ("body" if not prefix else None),
                "message": _message(err),
            }
        )
    return details


def invalid(details: list[dict[str, str | None]], message: str | None = None) -> ApiError:
    """A 422 that names the fields (the first few in its message, the first 50 in details)."""
    named = [d["field"] for d in details if d.get("field")]
    fields = ", ".join(clip(str(f), 100) for f in named[:MAX_FIELDS_IN_MESSAGE])
    if len(named) > MAX_FIELDS_IN_MESSAGE:
        fields += f" and {len(named) - MAX_FIELDS_IN_MESSAGE:,} more"
    return ApiError(
        422,
        "invalid_request",
        clip(message or f"invalid request: {fields or 'body'}"),
        cap_details(details),
    )


def from_validation_error(exc: ValidationError, prefix: str) -> ApiError:
    """A 422 for a pydantic error raised while checking part of the body."""
    return invalid(validation_details(exc.errors(include_url=False, include_input=False), prefix))


def _unreadable(cause: BaseException) -> str:
    """Why a body could not be read as JSON, in the caller's terms (no internals)."""
    if isinstance(cause, UnicodeDecodeError):
        return "not UTF-8"
    if isinstance(cause, RecursionError):
        return "nested too deeply"
    if isinstance(cause, ValueError) and "digits" in str(cause):
        return "a number has too many digits"
    return "unreadable"


def install_error_handlers(app: FastAPI, on_internal_error: Any = None) -> None:
    """Map every error to the one shape (called once by ``create_app``)."""

    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return error_response(exc.status, exc.code, exc.message, exc.details, exc.headers)

    async def request_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        details = validation_details(exc.errors())
        if any(d["message"] == "request body is not valid JSON" for d in details):
            return error_response(422, "invalid_json", "request body is not valid JSON", details)
        err = invalid(details)
        return error_response(err.status, err.code, err.message, err.details)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 400 and exc.__cause__ is not None:
            # FastAPI's 400 for a body json.loads could not read (not UTF-8, a number over
            # Python's 4,300 digits, nesting too deep): the same documented 422 as bad JSON.
            message = f"request body is not valid JSON ({_unreadable(exc.__cause__)})"
            details = [{"field": "body", "message": message}]
            return error_response(422, "invalid_json", message, details)
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
        return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))

    async def internal(request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        if on_internal_error is not None:
            on_internal_error()
        return error_response(500, "internal_error", "internal error; it has been logged")

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, request_validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, internal)
