"""The OpenTelemetry hook records GenAI spans and metrics from real calls."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from llmhub_runtime import LLMHub, ProviderServerError
from llmhub_runtime.otel import OpenTelemetryHook
from llmhub_runtime.testing import Fault, Reply, StandInServer

HI = [{"role": "user", "content": "hello there"}]


def test_spans_and_metrics(make_hub: Callable[..., LLMHub], server: StandInServer) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    hook = OpenTelemetryHook(tracer_provider, MeterProvider(metric_readers=[reader]))
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"]["retry"] = {"max_attempts": 2, "backoff": 0}
    hub = make_hub(cfg, hooks=[hook])
    server.enqueue("standin-chat", Fault(status=503), Reply(text="ok", usage=(11, 4)))
    hub.completion("llm.inference", HI)
    server.enqueue("standin-chat", Fault(status=500), Fault(status=500))
    with pytest.raises(ProviderServerError):
        hub.completion("llm.inference", HI)
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["chat standin-chat"] * 4
    first_error, success = spans[0], spans[1]
    assert first_error.attributes is not None and first_error.attributes["error.type"] == "ProviderServerError"
    assert success.attributes is not None
    assert success.attributes["gen_ai.provider.name"] == "openai"
    assert success.attributes["gen_ai.usage.input_tokens"] == 11
    assert success.attributes["gen_ai.usage.output_tokens"] == 4
    assert success.attributes["llmhub.role"] == "llm.inference"
    assert success.attributes["llmhub.attempt"] == 2
    data = reader.get_metrics_data()
    assert data is not None
    names = {m.name for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
    assert names == {"gen_ai.client.operation.duration", "gen_ai.client.token.usage"}
