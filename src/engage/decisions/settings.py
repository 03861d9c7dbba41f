"""Where decisions are recorded: ``ENGAGE_DECISIONS_*`` variables, one typed class.

``ENGAGE_DECISIONS_URL`` is a SQLAlchemy URL (``postgresql+psycopg://user:PW@host/db``); unset,
decisions go to an SQLite file under the project's data folder, ``./engage-data/decisions.db``.
The URL is a secret (it may hold a password): it is shown only through ``redact``.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engage.contract.settings_env import reject_unknown_variables

DATA_DIR = Path("engage-data")
ENV_PREFIX = "ENGAGE_DECISIONS_"


def default_url() -> str:
    """SQLite file ``./engage-data/decisions.db`` (of the current directory)."""
    return f"sqlite:///{Path.cwd() / DATA_DIR / 'decisions.db'}"


class DecisionSettings(BaseSettings):
    """Settings of the decision store; each field is ``ENGAGE_DECISIONS_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, extra="forbid", frozen=True, hide_input_in_errors=True
    )

    url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the store (default: sqlite file ./engage-data/decisions.db)",
    )
    record: bool = Field(default=True, description="record every served decision")
    queue_size: int = Field(
        default=10_000,
        ge=1,
        le=10_000_000,
        description="decisions waiting to be written; beyond it new ones are dropped (counted)",
    )

    def store_url(self) -> str:
        """The URL to open (the default SQLite file when ``url`` is unset or empty)."""
        text = self.url.get_secret_value().strip() if self.url else ""
        return text or default_url()

    @model_validator(mode="after")
    def _no_unknown_variables(self) -> DecisionSettings:
        reject_unknown_variables(ENV_PREFIX, type(self).model_fields)
        return self
