"""What every HTTP model shares: closed to extra fields; requests strict; size limits."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

MAX_PROFILE_FIELDS = 200
MAX_CONSTRAINT_KEYS = 100
MAX_OBJECTIVE_KEYS = 50


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Requests are strict: JSON types are taken as sent, never coerced ("top_k": "3" and
# "explain": 0 are refused, as "employees": "12" is), so OpenAPI and the server agree.
_REQUEST = ConfigDict(extra="forbid", strict=True)


class _Request(BaseModel):
    model_config = _REQUEST
