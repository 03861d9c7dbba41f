"""Prometheus metrics of one app instance, in a registry of its own (tests build many apps)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

if TYPE_CHECKING:
    from engage.decisions.writer import DecisionWriter

LATENCY_BUCKETS = (0.002, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class ServingMetrics:
    """Request counts and latency by route, model identity, reloads and internal errors."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._add_service_metrics()
        self._add_decision_metrics()

    def _add_service_metrics(self) -> None:
        """Requests, latency, the served model, reloads, errors and micro-batches."""
        self.requests = Counter(
            "engage_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "engage_http_request_duration_seconds",
            "Time to answer a request, by route template",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.model_info = Gauge(
            "engage_model_info",
            "The model being served (value 1; identity in the labels)",
            ["name", "version", "run_id", "mode"],
            registry=self.registry,
        )
        self.model_loaded = Gauge(
            "engage_model_loaded",
            "1 when a model is loaded and the service is ready",
            registry=self.registry,
        )
        self.reloads = Counter(
            "engage_model_reloads",
            "Model reload attempts by result",
            ["result"],
            registry=self.registry,
        )
        self.reload_failures = Counter(
            "engage_model_reload_failures",
            "Model loads or alias polls that failed",
            registry=self.registry,
        )
        self.internal_errors = Counter(
            "engage_internal_errors",
            "Requests answered 500 by the catch-all handler",
            registry=self.registry,
        )
        self.microbatch = Histogram(
            "engage_microbatch_profiles",
            "Profiles answered by one policy call of the single-profile route",
            buckets=(1, 2, 4, 8, 16, 32, 64),
            registry=self.registry,
        )
        self.profiles = Counter(
            "engage_profiles_scored", "Profiles scored by the policy", registry=self.registry
        )

    def _add_decision_metrics(self) -> None:
        """Recorded decisions (writer, spool, store) and posted outcomes."""
        self.decisions_written = Counter(
            "engage_decisions_written",
            "Decision records written to the decision store",
            registry=self.registry,
        )
        self.decisions_dropped = Counter(
            "engage_decisions_dropped",
            "Decision records the writer's full queue refused (the request answered 503)",
            registry=self.registry,
        )
        self.decisions_failed = Counter(
            "engage_decisions_failed",
            "Decision records lost: not built, or never spooled before the writer stopped",
            registry=self.registry,
        )
        self.decisions_retried = Counter(
            "engage_decisions_write_retries",
            "Decision records whose store write failed; kept in the spool and retried",
            registry=self.registry,
        )
        self.decisions_refused = Counter(
            "engage_decisions_refused",
            "Recommendation requests refused with 503: decision spool full or queue full",
            registry=self.registry,
        )
        self.decisions_queued = Gauge(
            "engage_decisions_queued",
            "Decision records in memory, not yet in the spool",
            registry=self.registry,
        )
        self.decisions_spooled = Gauge(
            "engage_decisions_spooled",
            "Decision records in the local spool, waiting for the decision store",
            registry=self.registry,
        )
        self.decisions_spool_bytes = Gauge(
            "engage_decisions_spool_bytes",
            "Size of the spooled decision records (JSON bytes)",
            registry=self.registry,
        )
        self.decisions_store_up = Gauge(
            "engage_decisions_store_up",
            "1 when the decision store took the last write, 0 while it is unavailable",
            registry=self.registry,
        )
        self.exploration_cost = Gauge(
            "engage_exploration_cost_mean",
            "Expected objective given up by exploring, per decision, mean since the service "
            "started (model-estimated, objective units; ENGAGE_SERVE_EXPLORATION_SERVICE_BUDGET "
            "caps it)",
            registry=self.registry,
        )
        self.exploration_cost_total = Counter(
            "engage_exploration_cost",
            "Expected objective given up by exploring, summed over decisions (model-estimated)",
            registry=self.registry,
        )
        self.outcomes = Counter(
            "engage_outcomes_posted",
            "Outcome posts by result (merged, repeated, refused)",
            ["result"],
            registry=self.registry,
        )

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def set_model(
        self, name: str | None, version: str | None, run_id: str | None, mode: str
    ) -> None:
        """Show the model now served (one labelled series at a time)."""
        self.model_info.clear()
        self.model_info.labels(name or "", version or "", run_id or "", mode).set(1)
        self.model_loaded.set(1)

    def watch_decisions(self, writer: DecisionWriter) -> None:
        """Read the decision backlog's gauges from ``writer`` at each scrape."""
        self.decisions_queued.set_function(writer.queued)
        self.decisions_spooled.set_function(writer.spooled)
        self.decisions_spool_bytes.set_function(writer.spooled_bytes)
        self.decisions_store_up.set_function(lambda: float(writer.store_up))

    def render(self) -> bytes:
        """The Prometheus text exposition of this registry."""
        return generate_latest(self.registry)
