"""The served model: loading it from MLflow, holding it, and swapping it atomically.

:class:`ModelStore` owns the one reference routes read (``store.current``). A load builds a
complete :class:`LoadedModel` (policy, spec-derived validators, identity) off the event loop
and only then replaces that reference, so a request sees either the old model or the new
one, never a half-built state; a failed load leaves the old model serving and is recorded.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import mlflow
import mlflow.pyfunc
from mlflow import MlflowClient

from engage.policy.policy import Policy
from engage.serving.contract import SpecContract
from engage.serving.errors import TRAIN_HINT
from engage.serving.metrics import ServingMetrics

logger = logging.getLogger("serving")

_ALIAS = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[^/@]+)$")
_VERSION = re.compile(r"^models:/(?P<name>[^/@]+)/(?P<version>\d+)$")
MAX_ERROR_CHARS = 500


class ModelLoadError(RuntimeError):
    """The model URI does not give a loadable policy (the message says why and what to do)."""


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class LoadedModel:
    """A policy ready to serve, with its identity and the request contract of its spec."""

    policy: Policy
    contract: SpecContract
    uri: str
    name: str | None = None
    version: str | None = None
    run_id: str | None = None
    loaded_at: str = field(default_factory=_now)

    @classmethod
    def from_policy(
        cls,
        policy: Policy,
        uri: str,
        name: str | None = None,
        version: str | None = None,
        run_id: str | None = None,
    ) -> LoadedModel:
        """Wrap a policy (``run_id`` defaults to the one training recorded in its metadata)."""
        run_id = run_id or policy.metadata.get("run_id")
        return cls(policy, SpecContract.from_spec(policy.spec), uri, name, version, run_id)

    def ref(self) -> dict[str, str | None]:
        """Name, version, run id and URI, as every answer reports them."""
        return {"name": self.name, "version": self.version, "run_id": self.run_id, "uri": self.uri}


def alias_of(uri: str) -> tuple[str, str] | None:
    """``(name, alias)`` of a ``models:/name@alias`` URI, else None."""
    m = _ALIAS.match(uri)
    return (m["name"], m["alias"]) if m else None


def _is_local(uri: str) -> bool:
    return uri.startswith("file:") or Path(uri).expanduser().exists()


class ModelLoader:
    """Resolves model URIs against one MLflow store and loads the policy behind them."""

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri

    def _client(self) -> MlflowClient:
        if urlparse(self.tracking_uri).scheme == "sqlite":
            # Opening a missing SQLite store would create an empty one (and run migrations).
            db = Path(self.tracking_uri.removeprefix("sqlite:///").split("?", 1)[0])
            if not db.exists():
                raise ModelLoadError(f"no MLflow store at {db}")
        mlflow.set_tracking_uri(self.tracking_uri)
        return MlflowClient(tracking_uri=self.tracking_uri)

    def alias_version(self, uri: str) -> str | None:
        """The version a ``models:/name@alias`` URI points to now (None for other URIs)."""
        parts = alias_of(uri)
        if parts is None:
            return None
        try:
            return str(self._client().get_model_version_by_alias(*parts).version)
        except ModelLoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - any registry failure means "cannot resolve"
            raise ModelLoadError(f"cannot resolve {uri}: {_short(exc)}") from exc

    def load(self, uri: str) -> LoadedModel:
        """Load the policy behind ``uri`` (blocking; seconds).

        Raises:
            ModelLoadError: the URI does not resolve or does not hold a policy.
        """
        name = version = run_id = None
        load_uri = uri
        try:
            if (parts := alias_of(uri)) is not None:
                mv = self._client().get_model_version_by_alias(*parts)
                name, version, run_id = parts[0], str(mv.version), mv.run_id
                load_uri = f"models:/{name}/{version}"  # exactly the version resolved
            elif (m := _VERSION.match(uri)) is not None:
                mv = self._client().get_model_version(m["name"], m["version"])
                name, version, run_id = m["name"], str(mv.version), mv.run_id
            elif not _is_local(uri):
                self._client()
            policy = mlflow.pyfunc.load_model(load_uri).get_raw_model()
        except ModelLoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - MLflow raises many kinds; all mean "not loadable"
            raise ModelLoadError(f"cannot load {uri}: {_short(exc)}") from exc
        if not isinstance(policy, Policy):
            raise ModelLoadError(
                f"{uri} is not an engage policy model (got {type(policy).__name__})"
            )
        return LoadedModel.from_policy(policy, uri, name, version, run_id)


def _short(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


class ModelStore:
    """The one reference to the served model, and the reload machinery around it."""

    def __init__(self, uri: str, loader: ModelLoader, metrics: ServingMetrics) -> None:
        self.uri = uri
        self.loader = loader
        self.metrics = metrics
        self.current: LoadedModel | None = None
        self.last_reload: dict[str, Any] | None = None
        self._lock: asyncio.Lock | None = None

    def install(self, model: LoadedModel) -> None:
        """Serve ``model`` from now on (one reference swap)."""
        self.current = model
        self.uri = model.uri
        self.metrics.set_model(model.name, model.version, model.run_id, model.policy.mode)

    def _record(
        self, trigger: str, uri: str, ok: bool, version: str | None = None, error: str | None = None
    ) -> None:
        self.last_reload = {
            "at": _now(),
            "ok": ok,
            "trigger": trigger,
            "uri": uri,
            "version": version,
            "error": error,
        }
        self.metrics.reloads.labels("ok" if ok else "failed").inc()
        if not ok:
            self.metrics.reload_failures.inc()
            logger.warning("model %s failed (%s): %s; %s", trigger, uri, error, TRAIN_HINT)
        else:
            logger.info("model %s: serving %s (version %s)", trigger, uri, version)

    async def reload(self, trigger: str, uri: str | None = None) -> bool:
        """Load ``uri`` (default: the served URI) and swap it in; False (recorded) on failure."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        target = uri or self.uri
        async with self._lock:
            try:
                model = await asyncio.to_thread(self.loader.load, target)
            except ModelLoadError as exc:
                self._record(trigger, target, False, error=str(exc))
                return False
            self.install(model)
            self._record(trigger, target, True, version=model.version)
            return True

    async def poll_once(self) -> None:
        """Reload when the alias moved (or when nothing is loaded yet)."""
        current = self.current
        if current is None:
            await self.reload("poll")
            return
        if alias_of(self.uri) is None:
            return  # a pinned version or a directory never changes
        try:
            version = await asyncio.to_thread(self.loader.alias_version, self.uri)
        except ModelLoadError as exc:
            self._record("poll", self.uri, False, error=str(exc))
            return
        if version != current.version:
            await self.reload("poll")

    async def poll_forever(self, interval_s: float) -> None:
        """Poll every ``interval_s`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.poll_once()
            except Exception:  # a poll must never kill the poller
                logger.exception("model poll failed")
