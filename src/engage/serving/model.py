"""The served model: loading it from MLflow, holding it, and swapping it atomically.

:class:`ModelStore` owns the one reference routes read (``store.current``). A load builds a
complete :class:`LoadedModel` (policy, spec-derived validators, identity) off the event loop
and only then replaces that reference, so a request sees either the old model or the new
one, never a half-built state; a failed load leaves the old model serving and is recorded.

The first load never holds up startup: :meth:`ModelStore.load_until_ready` runs in the
background and retries with a doubling, capped wait, while ``/readyz`` says why nothing is
served yet. Errors are recorded twice: redacted in full for the log and the authenticated
admin answer, and without credentials or filesystem paths for everyone else
(:mod:`engage.serving.disclosure`).
"""

from __future__ import annotations

import asyncio
import logging
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from engage.contract.redaction import redact, remember_uri
from engage.policy.policy import Policy
from engage.registry import (
    RegistryClient,
    ResolvedModel,
    StoreMissingError,
    load_model_object,
    network_failure,
    open_store,
    parse_registered_uri,
    resolve_model,
    server_address,
)
from engage.serving.contract import SpecContract
from engage.serving.disclosure import public_text
from engage.serving.errors import TRAIN_HINT
from engage.serving.metrics import ServingMetrics
from engage.serving.registry_access import in_daemon_thread

logger = logging.getLogger("serving")

MAX_ERROR_CHARS = 500


class ModelLoadError(RuntimeError):
    """The model URI does not give a loadable policy (the message says why and what to do).

    ``str(error)`` is the full message with credentials masked (for the log and the admin);
    ``error.public`` also has no filesystem paths (for unauthenticated answers).
    """

    def __init__(self, message: str, public: str | None = None) -> None:
        detail = redact(message)
        super().__init__(detail)
        self.public = public_text(detail if public is None else public)


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
        """Name, version, run id and URI (a directory by its last component), as answers show them."""
        return {
            "name": self.name,
            "version": self.version,
            "run_id": self.run_id,
            "uri": public_text(self.uri),
        }


def alias_of(uri: str) -> tuple[str, str] | None:
    """``(name, alias)`` of a ``models:/name@alias`` URI, else None."""
    parts = parse_registered_uri(uri)
    return None if parts is None or parts.alias is None else (parts.name, parts.alias)


def _is_local(uri: str) -> bool:
    return uri.startswith("file:") or Path(uri).expanduser().exists()


def _short(exc: BaseException) -> str:
    # Redact before cutting: a cut through "user:PW@" would hide the "@" the mask looks for.
    text = redact(f"{type(exc).__name__}: {exc}".strip())
    return text if len(text) <= MAX_ERROR_CHARS else text[: MAX_ERROR_CHARS - 3] + "..."


class ModelLoader:
    """Resolves model URIs against one MLflow store and loads the policy behind them.

    Which models may be served is :mod:`engage.registry.servable`'s one rule, the same that
    ``engage export-model`` applies: a version, logged model or run that did not finish, is
    deleted or is marked incomplete is refused, saying why.
    """

    def __init__(self, tracking_uri: str) -> None:
        self.tracking_uri = tracking_uri
        remember_uri(tracking_uri)  # its password is masked wherever MLflow echoes it

    def _client(self) -> RegistryClient:
        try:
            return open_store(self.tracking_uri)
        except StoreMissingError as exc:
            raise ModelLoadError(str(exc)) from None

    def _failure(self, action: str, uri: str, exc: BaseException) -> ModelLoadError:
        """A load error for ``exc``; an unreachable store is said so, with its address only."""
        kind = network_failure(exc)
        if kind is not None:
            public = f"tracking server unreachable: {server_address(self.tracking_uri)} ({kind})"
        else:
            # Fixed words: an upstream error body (a 500 page may echo the request's headers)
            # goes to the log and the admin answer only, redacted.
            public = (
                f"cannot {action} {uri}: the model store failed (the server log has the detail)"
            )
        return ModelLoadError(f"cannot {action} {uri}: {_short(exc)}", public)

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
            raise self._failure("resolve", uri, exc) from exc

    def resolve(self, uri: str) -> ResolvedModel:
        """The exact model ``uri`` means and the registry's verdict on serving it (a directory
        or ``file:`` URI is not looked up).

        Raises:
            ModelLoadError: the store is missing or unreachable, or the URI does not resolve.
        """
        if _is_local(uri):
            return ResolvedModel(uri, uri)
        try:
            return resolve_model(self._client(), uri)
        except ModelLoadError:
            raise
        except Exception as exc:  # noqa: BLE001 - MLflow raises many kinds; all mean "not loadable"
            raise self._failure("load", uri, exc) from exc

    def load(self, uri: str) -> LoadedModel:
        """Load the policy behind ``uri`` (blocking; seconds).

        Raises:
            ModelLoadError: the URI does not resolve, the registry refuses it (its run did not
                finish, was deleted, or it is marked incomplete), or it does not hold a policy.
        """
        model = self.resolve(uri)
        if model.refusal is not None:
            raise ModelLoadError(f"{uri} is not served: {model.refusal}")
        try:
            policy = load_model_object(model.load_uri)  # exactly the version resolved
        except Exception as exc:  # noqa: BLE001 - MLflow raises many kinds; all mean "not loadable"
            raise self._failure("load", uri, exc) from exc
        if not isinstance(policy, Policy):
            raise ModelLoadError(
                f"{uri} is not an engage policy model (got {type(policy).__name__})"
            )
        return LoadedModel.from_policy(policy, uri, model.name, model.version, model.run_id)


class ModelStore:
    """The one reference to the served model, and the reload machinery around it.

    ``configured_uri`` is what the process was started with; ``uri`` is what it serves now.
    They differ after an admin reload to another URI: a pinned version or a directory is
    never polled (``following_alias`` is False) until a reload without a URI returns to the
    configured one.
    """

    def __init__(self, uri: str, loader: ModelLoader, metrics: ServingMetrics) -> None:
        self.configured_uri = uri
        self.uri = uri
        self.loader = loader
        self.metrics = metrics
        self.current: LoadedModel | None = None
        self.last_reload: dict[str, Any] | None = None
        self.last_failure: str | None = None  # redacted, with paths: log and admin only
        self.retry_in_s: float | None = None
        self._lock: asyncio.Lock | None = None

    @property
    def following_alias(self) -> bool:
        """Whether the alias poll follows the served URI (False for a version or directory)."""
        return alias_of(self.uri) is not None

    def install(self, model: LoadedModel) -> None:
        """Serve ``model`` from now on (one reference swap)."""
        self.current = model
        self.uri = model.uri
        self.metrics.set_model(model.name, model.version, model.run_id, model.policy.mode)

    def _record(
        self,
        trigger: str,
        uri: str,
        version: str | None = None,
        error: ModelLoadError | None = None,
    ) -> None:
        # Compared on the public text: the full one differs per attempt (object addresses).
        previous = self.last_reload or {}
        repeated = error is not None and previous.get("error") == error.public
        self.last_reload = {
            "at": _now(),
            "ok": error is None,
            "trigger": trigger,
            "uri": public_text(uri),
            "version": version,
            "error": None if error is None else error.public,
        }
        self.metrics.reloads.labels("ok" if error is None else "failed").inc()
        # %r: a URI may come from a request, and repr() escapes the newline that could
        # otherwise forge a log line.
        if error is None:
            self.last_failure = None
            logger.info("model %s: serving %r (version %s)", trigger, redact(uri), version)
            return
        self.metrics.reload_failures.inc()
        self.last_failure = str(error)
        # The same failure every retry or poll is logged once at warning level, then quietly.
        level = logging.INFO if repeated else logging.WARNING
        logger.log(
            level, "model %s failed (%r): %r; %s", trigger, redact(uri), str(error), TRAIN_HINT
        )

    def not_ready_reason(self) -> str:
        """Why no model is served, for unauthenticated answers (no credentials, no paths)."""
        attempt = self.last_reload
        if attempt is None or attempt["ok"]:
            return f"loading {public_text(self.uri)}, first attempt in progress"
        reason = str(attempt["error"])
        if self.retry_in_s is not None:
            reason += f"; next attempt within {self.retry_in_s:g} s"
        return reason

    async def reload(self, trigger: str, uri: str | None = None) -> bool:
        """Load ``uri`` (default: the served URI) and swap it in; False (recorded) on failure."""
        if self._lock is None:
            self._lock = asyncio.Lock()
        target = uri or self.uri
        async with self._lock:
            try:
                model = await in_daemon_thread(self.loader.load, target)
            except ModelLoadError as exc:
                self._record(trigger, target, error=exc)
                return False
            self.install(model)
            self._record(trigger, target, version=model.version)
            return True

    async def load_until_ready(self, retry_s: float, max_retry_s: float) -> None:
        """Load the served URI, retrying after ``retry_s``, doubling up to ``max_retry_s``."""
        delay = min(retry_s, max_retry_s)
        while self.current is None:
            if await self.reload("startup") or self.current is not None:
                break  # loaded (by this attempt or by an admin reload meanwhile)
            self.retry_in_s = delay
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_retry_s)
        self.retry_in_s = None

    async def wait_for_first_attempt(self, timeout_s: float) -> None:
        """Return when a load attempt has finished (or failed), or after ``timeout_s``."""
        deadline = time.monotonic() + timeout_s
        while self.last_reload is None and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    async def poll_once(self) -> None:
        """Reload when the alias moved (or when nothing is loaded yet)."""
        current = self.current
        if current is None:
            await self.reload("poll")
            return
        if not self.following_alias:
            return  # a pinned version or a directory never changes
        try:
            version = await in_daemon_thread(self.loader.alias_version, self.uri)
        except ModelLoadError as exc:
            self._record("poll", self.uri, error=exc)
            return
        if version != current.version:
            await self.reload("poll")

    async def poll_forever(self, interval_s: float) -> None:
        """Poll every ``interval_s`` seconds until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.poll_once()
            except Exception as exc:  # a poll must never kill the poller
                trace = "".join(traceback.format_exception(exc))
                logger.error("model poll failed: %s", redact(trace))

    async def serve_forever(
        self, retry_s: float, max_retry_s: float, poll_interval_s: float
    ) -> None:
        """Load the first model (retrying), then follow its alias every ``poll_interval_s``."""
        await self.load_until_ready(retry_s, max_retry_s)
        if poll_interval_s > 0:
            await self.poll_forever(poll_interval_s)
