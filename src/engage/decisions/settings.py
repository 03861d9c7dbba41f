"""Where decisions are recorded: ``ENGAGE_DECISIONS_*`` variables, one typed class.

``ENGAGE_DECISIONS_URL`` is a SQLAlchemy URL (``postgresql+psycopg://user:PW@host/db``); unset,
decisions go to an SQLite file under the project's data folder, ``./engage-data/decisions.db``.
The URL is a secret (it may hold a password): it is shown only through ``redact``.

Every decision passes through a local spool (:mod:`.spool`) before the store, so none is lost
while the store is down: ``ENGAGE_DECISIONS_SPOOL_DIR`` is its folder (default
``./engage-data/spool``; keep it on a local disk that survives a restart) and
``ENGAGE_DECISIONS_SPOOL_MAX_MB`` its bound: a spool that full refuses new recommendations
with 503 (no decision id is handed out that could not be kept) until the store is back.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from engage.contract.settings_env import reject_unknown_variables

DATA_DIR = Path("engage-data")
ENV_PREFIX = "ENGAGE_DECISIONS_"


def default_spool_dir() -> Path:
    """``./engage-data/spool`` (of the current directory)."""
    return Path.cwd() / DATA_DIR / "spool"


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
        description="decisions waiting in memory to be spooled; beyond it new ones are refused (503)",
    )
    spool_dir: Path | None = Field(
        default=None,
        description="folder of the local spool where decisions wait for the store "
        "(default: ./engage-data/spool)",
    )
    spool_max_mb: int = Field(
        default=1024,
        ge=1,
        le=1_000_000,
        description="spooled decisions (MiB of JSON, about 2.5 KiB each) at which new "
        "recommendations are refused with 503 until the store takes the backlog",
    )

    def spool_folder(self) -> Path:
        """The spool's folder (the default when ``spool_dir`` is unset)."""
        return self.spool_dir or default_spool_dir()

    def store_url(self) -> str:
        """The URL to open (the default SQLite file when ``url`` is unset or empty)."""
        text = self.url.get_secret_value().strip() if self.url else ""
        return text or default_url()

    @model_validator(mode="after")
    def _no_unknown_variables(self) -> DecisionSettings:
        reject_unknown_variables(ENV_PREFIX, type(self).model_fields)
        return self
