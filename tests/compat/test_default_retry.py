"""The default retry: 3 attempts per target on transient failures, like the SDKs 1.x users relied on."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from llmhub_runtime import AuthenticationError, BadRequestError, LLMHub, ProviderServerError, RateLimitError
from llmhub_runtime.cli import main
from llmhub_runtime.models import DEFAULT_MAX_ATTEMPTS, RetryPolicy
from llmhub_runtime.testing import Fault, StandInServer
from llmhub_runtime.testing.timer import FakeTimer

HI = "hello there"
HubFactory = Callable[..., LLMHub]


def test_the_default_is_three_attempts_with_backoff() -> None:
    assert DEFAULT_MAX_ATTEMPTS == 3
    assert RetryPolicy() == RetryPolicy(max_attempts=3, backoff=0.5, max_backoff=20.0, max_retry_after=30.0)


@pytest.mark.parametrize("fault", [Fault(status=503), Fault(status=500), Fault(status=429), Fault(malformed=True)])
def test_transient_failures_are_retried_without_any_retry_key(
    make_hub: HubFactory, server: StandInServer, timer: FakeTimer, fault: Fault
) -> None:
    server.enqueue("standin-chat", fault, fault)
    response = make_hub().completion("llm.inference", HI)
    assert response.choices[0].message.content == "Stand-in reply to: hello there"
    assert len(server.requests) == 3
    assert timer.sleeps == [0.5, 1.0]


def test_the_third_failure_is_raised(make_hub: HubFactory, server: StandInServer) -> None:
    server.enqueue("standin-chat", *[Fault(status=503)] * 4)
    with pytest.raises(ProviderServerError) as caught:
        make_hub().completion("llm.inference", HI)
    assert (caught.value.attempts, len(server.requests), server.pending("standin-chat")) == (3, 3, 1)


def test_retry_after_is_honoured_up_to_its_cap(make_hub: HubFactory, server: StandInServer, timer: FakeTimer) -> None:
    server.enqueue("standin-chat", Fault(status=429, headers={"Retry-After": "2"}))
    make_hub().completion("llm.inference", HI)
    assert timer.sleeps == [2.0]
    server.enqueue("standin-chat", Fault(status=429, headers={"Retry-After": "120"}))
    with pytest.raises(RateLimitError) as caught:
        make_hub().completion("llm.inference", HI)
    assert (caught.value.attempts, timer.sleeps) == (1, [2.0])  # 120 s > max_retry_after 30 s: not waited


@pytest.mark.parametrize(
    ("fault", "error"), [(Fault(status=400), BadRequestError), (Fault(status=401), AuthenticationError)]
)
def test_mistakes_are_not_retried(make_hub: HubFactory, server: StandInServer, fault: Fault, error: type) -> None:
    server.enqueue("standin-chat", fault)
    with pytest.raises(error):
        make_hub().completion("llm.inference", HI)
    assert len(server.requests) == 1


def test_one_attempt_when_the_config_says_so(make_hub: HubFactory, server: StandInServer) -> None:
    cfg: dict[str, Any] = server.chat_config()
    cfg["defaults"] = {"retry": {"max_attempts": 1}}
    server.enqueue("standin-chat", Fault(status=503))
    with pytest.raises(ProviderServerError):
        make_hub(cfg).completion("llm.inference", HI)
    assert len(server.requests) == 1
    cfg["defaults"] = {"retry": {"backoff": 2}}  # a partial policy keeps the default attempts
    assert make_hub(cfg).resolve("llm.inference").primary.retry.max_attempts == 3


def test_explain_shows_the_default(capsys: pytest.CaptureFixture[str], server: StandInServer, tmp_path: Any) -> None:
    import yaml

    path = tmp_path / "llmhub.yaml"
    path.write_text(yaml.safe_dump(server.chat_config()), encoding="utf-8")
    assert main(["explain", "llm.inference", "--config", str(path)]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if line.strip().startswith("retry")]
    assert line == (
        "  retry       3 attempts, backoff 0.5s doubling up to 20s, Retry-After honoured up to 30s   "
        "from llmhub's default: rate limits, 5xx, timeouts and connection errors are retried"
    )
