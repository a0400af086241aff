"""An OpenTelemetry hook: a span per attempt and the GenAI client metrics (extra ``otel``).

Follows the OpenTelemetry semantic conventions for generative AI client spans and metrics:
span ``"{operation} {model}"`` of kind CLIENT with ``gen_ai.operation.name``,
``gen_ai.provider.name``, ``gen_ai.request.model``, ``gen_ai.response.model``,
``gen_ai.usage.input_tokens`` / ``output_tokens`` and ``error.type``; histograms
``gen_ai.client.operation.duration`` (s) and ``gen_ai.client.token.usage`` ({token}).
llmhub adds ``llmhub.role``, ``llmhub.attempt``, ``llmhub.target_index`` and ``llmhub.cost``.
Message contents are never recorded.

    from llmhub_runtime import LLMHub
    from llmhub_runtime.otel import OpenTelemetryHook

    hub = LLMHub(hooks=[OpenTelemetryHook()])   # global tracer/meter providers by default
"""

from __future__ import annotations

import threading
from typing import Any

from .hooks import CallEvent

__all__ = ["OpenTelemetryHook"]

_OPERATIONS = {
    "chat": "chat",
    "tool": "chat",
    "embedding": "embeddings",
    "responses": "chat",
    "image": "generate_content",
    "speech": "generate_content",
    "transcription": "generate_content",
    "rerank": "rerank",
    "moderation": "moderation",
    "audio": "chat",  # llmhub-runtime 1.x's modes, served as chat completions
    "other": "chat",
}
"""llmhub mode → ``gen_ai.operation.name`` (well-known values where the conventions have one)."""


class OpenTelemetryHook:
    """Records each attempt of each call as a span, and token/duration metrics."""

    def __init__(self, tracer_provider: Any = None, meter_provider: Any = None) -> None:
        try:
            from opentelemetry import metrics, trace
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            from .errors import UsageError

            raise UsageError("OpenTelemetryHook needs opentelemetry-api: pip install 'llmhub-runtime[otel]'") from exc
        self._trace = trace
        self._tracer = trace.get_tracer("llmhub_runtime", tracer_provider=tracer_provider)
        meter = metrics.get_meter("llmhub_runtime", meter_provider=meter_provider)
        self._duration = meter.create_histogram(
            "gen_ai.client.operation.duration", unit="s", description="GenAI operation duration"
        )
        self._tokens = meter.create_histogram(
            "gen_ai.client.token.usage", unit="{token}", description="Measures number of input and output tokens used"
        )
        self._spans: dict[tuple[int, int, int], Any] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(event: CallEvent) -> tuple[int, int, int]:
        return (event.call_id, event.target_index, event.attempt)

    def _attributes(self, event: CallEvent) -> dict[str, Any]:
        return {
            "gen_ai.operation.name": _OPERATIONS.get(event.mode, event.mode),
            "gen_ai.provider.name": event.provider_kind or event.provider,
            "gen_ai.request.model": event.model,
            "server.address": event.provider,
            "llmhub.role": event.role,
            "llmhub.attempt": event.attempt,
            "llmhub.target_index": event.target_index,
        }

    def on_start(self, event: CallEvent) -> None:
        attributes = self._attributes(event)
        span = self._tracer.start_span(
            f"{attributes['gen_ai.operation.name']} {event.model}",
            kind=self._trace.SpanKind.CLIENT,
            attributes=attributes,
        )
        with self._lock:
            self._spans[self._key(event)] = span

    def on_end(self, event: CallEvent) -> None:
        span = self._pop(event)
        attributes = self._attributes(event)
        if event.answered_model:
            attributes["gen_ai.response.model"] = event.answered_model
        if event.usage is not None:
            attributes["gen_ai.usage.input_tokens"] = event.usage.input_tokens
            attributes["gen_ai.usage.output_tokens"] = event.usage.output_tokens
            for token_type, count in (("input", event.usage.input_tokens), ("output", event.usage.output_tokens)):
                self._tokens.record(count, {**self._metric_attributes(event), "gen_ai.token.type": token_type})
        if event.cost is not None:
            attributes["llmhub.cost"] = event.cost
        if event.abandoned:
            attributes["llmhub.stream.abandoned"] = True
        self._finish(span, event, attributes, error=None)

    def on_error(self, event: CallEvent) -> None:
        self._finish(self._pop(event), event, self._attributes(event), error=event.error_type or "_OTHER")

    def _metric_attributes(self, event: CallEvent) -> dict[str, Any]:
        return {
            "gen_ai.operation.name": _OPERATIONS.get(event.mode, event.mode),
            "gen_ai.provider.name": event.provider_kind or event.provider,
            "gen_ai.request.model": event.model,
        }

    def _pop(self, event: CallEvent) -> Any:
        with self._lock:
            return self._spans.pop(self._key(event), None)

    def _finish(self, span: Any, event: CallEvent, attributes: dict[str, Any], *, error: str | None) -> None:
        metric_attributes = self._metric_attributes(event)
        if error is not None:
            attributes["error.type"] = error
            metric_attributes["error.type"] = error
        if event.latency is not None:
            self._duration.record(event.latency, metric_attributes)
        if span is None:  # the hub emitted no start (should not happen): record a zero-length span
            span = self._tracer.start_span(f"{attributes['gen_ai.operation.name']} {event.model}")
        span.set_attributes(attributes)
        if error is not None:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, error))
        span.end()
