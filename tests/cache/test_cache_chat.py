"""The response cache on chat roles, through any-llm and the openai SDK to the stand-in."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from llmhub_runtime import ConfigValidationError, InvalidInputError, LLMHub, StreamInterruptedError
from llmhub_runtime.testing import Fault, Reply, StandInServer

HI = [{"role": "user", "content": "hi there"}]


def chat_requests(server: StandInServer) -> int:
    return sum(1 for r in server.requests if r.api == "openai-chat")


def test_second_identical_call_is_a_hit_with_zero_tokens(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]], recorder: Any
) -> None:
    hub = make_hub(cached_config(), hooks=[recorder])
    server.enqueue("standin-chat", Reply(text="first answer", usage=(7, 2)))
    first = hub.completion("llm.inference", HI)
    second = hub.completion("llm.inference", HI)
    assert chat_requests(server) == 1
    assert second.choices[0].message.content == "first answer" == first.choices[0].message.content
    ends = [e for e in recorder.events if e.kind == "end"]
    assert [(e.cache, e.attempt) for e in ends] == [("miss", 1), ("hit", 0)]
    assert ends[1].usage is not None and ends[1].usage.total_tokens == 0
    stats = hub.usage().roles["llm.inference"]
    assert (stats.calls, stats.cache_hits, stats.cache_misses) == (2, 1, 1)
    assert (stats.input_tokens, stats.output_tokens) == (7, 2)
    assert hub.cache_stats()["llm.inference"].hits == 1


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        ({}, {"temperature": 0.5}, False),
        ({"temperature": 0.5}, {"temperature": 0.6}, False),
        ({}, {"max_tokens": 5}, False),
        ({}, {"response_format": {"type": "json_object"}}, False),
        ({}, {"timeout": 30}, True),  # not output-shaping
        ({}, {"user": "someone"}, True),
    ],
)
def test_key_covers_output_shaping_params_only(
    server: StandInServer,
    make_hub: Callable[..., LLMHub],
    cached_config: Callable[..., dict[str, Any]],
    first: dict[str, Any],
    second: dict[str, Any],
    same: bool,
) -> None:
    hub = make_hub(cached_config())
    hub.completion("llm.inference", HI, **first)
    hub.completion("llm.inference", HI, **second)
    assert chat_requests(server) == (1 if same else 2)


def test_other_messages_or_tools_miss(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]]
) -> None:
    hub = make_hub(cached_config())
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    hub.completion("llm.inference", HI)
    hub.completion("llm.inference", [{"role": "user", "content": "hi there!"}])
    hub.completion("llm.inference", HI, tools=[tool])
    hub.completion("llm.inference", HI, tools=[tool])
    assert chat_requests(server) == 3


def test_changing_the_roles_model_never_returns_the_old_answer(server: StandInServer, tmp_path: Any) -> None:
    db = str(tmp_path / "cache.sqlite")
    config = server.chat_config()
    config["roles"]["llm.inference"]["cache"] = {"backend": "sqlite", "path": db}
    with LLMHub(config=config) as hub:
        server.enqueue("standin-chat", Reply(text="old model"))
        assert hub.completion("llm.inference", HI).choices[0].message.content == "old model"
    config["roles"]["llm.inference"]["model"] = "standin-chat-2"
    with LLMHub(config=config) as hub:
        server.enqueue("standin-chat-2", Reply(text="new model"))
        assert hub.completion("llm.inference", HI).choices[0].message.content == "new model"
    config["roles"]["llm.inference"]["params"] = {"temperature": 0.1}
    with LLMHub(config=config) as hub:
        server.enqueue("standin-chat-2", Reply(text="new params"))
        assert hub.completion("llm.inference", HI).choices[0].message.content == "new params"
    assert chat_requests(server) == 3


def test_sqlite_cache_survives_a_new_hub(server: StandInServer, tmp_path: Any) -> None:
    config = server.chat_config()
    config["roles"]["llm.inference"]["cache"] = {"backend": "sqlite", "path": str(tmp_path / "c.sqlite")}
    with LLMHub(config=config) as hub:
        server.enqueue("standin-chat", Reply(text="kept"))
        hub.completion("llm.inference", HI)
    with LLMHub(config=config) as hub:
        assert hub.completion("llm.inference", HI).choices[0].message.content == "kept"
    assert chat_requests(server) == 1


def test_cache_false_bypasses_and_refresh_replaces(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]]
) -> None:
    hub = make_hub(cached_config())
    server.enqueue("standin-chat", Reply(text="one"))
    server.enqueue("standin-chat", Reply(text="two"))
    server.enqueue("standin-chat", Reply(text="three"))
    assert hub.completion("llm.inference", HI).choices[0].message.content == "one"
    assert hub.completion("llm.inference", HI, cache=False).choices[0].message.content == "two"
    assert hub.completion("llm.inference", HI).choices[0].message.content == "one"
    assert hub.completion("llm.inference", HI, cache="refresh").choices[0].message.content == "three"
    assert hub.completion("llm.inference", HI).choices[0].message.content == "three"
    assert chat_requests(server) == 3
    assert hub.cache_stats()["llm.inference"].bypassed == 1


def test_cache_flag_is_checked(make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]]) -> None:
    hub = make_hub(cached_config())
    with pytest.raises(InvalidInputError, match=r"cache= takes True, False or 'refresh', not 'yes'"):
        hub.completion("llm.inference", HI, cache="yes")  # type: ignore[arg-type]


def test_cache_true_caches_a_role_without_cache(server: StandInServer, make_hub: Callable[..., LLMHub]) -> None:
    hub = make_hub()
    hub.completion("llm.inference", HI, cache=True)
    hub.completion("llm.inference", HI, cache=True)
    hub.completion("llm.inference", HI)
    assert chat_requests(server) == 2


def test_sampled_false_bypasses_calls_with_temperature(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]]
) -> None:
    hub = make_hub(cached_config(sampled=False))
    for _ in range(2):
        hub.completion("llm.inference", HI, temperature=0.8)
    for _ in range(2):
        hub.completion("llm.inference", HI, temperature=0)
    assert chat_requests(server) == 3


def test_stream_is_stored_once_complete_and_replayed(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]]
) -> None:
    hub = make_hub(cached_config())
    server.enqueue("standin-chat", Reply(chunks=["Hel", "lo ", "world"], usage=(3, 3)))
    streamed = "".join(
        c.choices[0].delta.content or "" for c in hub.completion("llm.inference", HI, stream=True) if c.choices
    )
    assert streamed == "Hello world"
    plain = hub.completion("llm.inference", HI)
    assert plain.choices[0].message.content == "Hello world"
    assert plain.usage is not None and plain.usage.prompt_tokens == 3
    chunks = list(hub.completion("llm.inference", HI, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello world"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3
    assert chat_requests(server) == 1


def test_tool_calls_survive_a_stream_round_trip(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]]
) -> None:
    from llmhub_runtime.testing import ToolCall

    hub = make_hub(cached_config())
    server.enqueue("standin-chat", Reply(tool_calls=[ToolCall("get_weather", {"city": "Paris"}, id="call_1")]))
    list(hub.completion("llm.inference", HI, stream=True))
    answer = hub.completion("llm.inference", HI)
    call = answer.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert (call.id, call.function.name, call.function.arguments) == ("call_1", "get_weather", '{"city": "Paris"}')
    assert answer.choices[0].finish_reason == "tool_calls"
    assert chat_requests(server) == 1


def test_interrupted_or_abandoned_streams_are_not_stored(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]]
) -> None:
    hub = make_hub(cached_config())
    server.enqueue("standin-chat", Fault(disconnect_after_chunks=1))
    with pytest.raises(StreamInterruptedError):
        list(hub.completion("llm.inference", HI, stream=True))
    stream = hub.completion("llm.inference", HI, stream=True)
    next(iter(stream))
    stream.close()  # type: ignore[attr-defined]
    hub.completion("llm.inference", HI)
    assert chat_requests(server) == 3
    hub.completion("llm.inference", HI)
    assert chat_requests(server) == 3


def test_failures_are_not_stored(
    server: StandInServer, make_hub: Callable[..., LLMHub], cached_config: Callable[..., dict[str, Any]]
) -> None:
    from llmhub_runtime import ProviderServerError
    from llmhub_runtime.models import DEFAULT_MAX_ATTEMPTS

    hub = make_hub(cached_config())
    server.enqueue("standin-chat", *[Fault(status=500)] * DEFAULT_MAX_ATTEMPTS)  # fails every default attempt
    with pytest.raises(ProviderServerError):
        hub.completion("llm.inference", HI)
    hub.completion("llm.inference", HI)
    hub.completion("llm.inference", HI)
    assert chat_requests(server) == DEFAULT_MAX_ATTEMPTS + 1


def test_identical_concurrent_misses_call_the_model_once_threads(
    server: StandInServer, cached_config: Callable[..., dict[str, Any]]
) -> None:
    hub = LLMHub(config=cached_config())
    server.enqueue("standin-chat", Fault(delay=0.3))  # the leader's answer is slow to come
    barrier = threading.Barrier(8)
    answers: list[str] = []

    def call() -> None:
        barrier.wait()
        answers.append(hub.completion("llm.inference", HI).choices[0].message.content or "")

    threads = [threading.Thread(target=call) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    hub.close()
    assert len(answers) == 8 and len(set(answers)) == 1
    assert chat_requests(server) == 1


async def test_identical_concurrent_misses_call_the_model_once_async(
    server: StandInServer, cached_config: Callable[..., dict[str, Any]]
) -> None:
    async with LLMHub(config=cached_config()) as hub:
        server.enqueue("standin-chat", Fault(delay=0.2))
        answers = await asyncio.gather(*(hub.acompletion("llm.inference", HI) for _ in range(10)))
        assert len({a.choices[0].message.content for a in answers}) == 1
        assert chat_requests(server) == 1
        chunks = [c async for c in await hub.acompletion("llm.inference", HI, stream=True)]
        assert (
            "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
            == answers[0].choices[0].message.content
        )
        assert chat_requests(server) == 1


async def test_async_stream_is_stored_and_hits_are_events(
    server: StandInServer, cached_config: Callable[..., dict[str, Any]], recorder: Any
) -> None:
    async with LLMHub(config=cached_config(), hooks=[recorder]) as hub:
        server.enqueue("standin-chat", Reply(chunks=["a ", "b"]))
        text = "".join(
            [
                c.choices[0].delta.content or ""
                async for c in await hub.acompletion("llm.inference", HI, stream=True)
                if c.choices
            ]
        )
        again = await hub.acompletion("llm.inference", HI)
    assert text == "a b" == again.choices[0].message.content
    assert [e.cache for e in recorder.events if e.kind == "end"] == ["miss", "hit"]
    assert chat_requests(server) == 1


def test_stored_entries_never_hold_the_api_key(
    server: StandInServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "sk-cache-secret-0123456789"
    monkeypatch.setenv("STANDIN_KEY", secret)
    config = server.chat_config()
    config["providers"]["standin"]["env_key"] = "STANDIN_KEY"
    db = tmp_path / "c.sqlite"
    config["roles"]["llm.inference"]["cache"] = {"backend": "sqlite", "path": str(db)}
    with LLMHub(config=config) as hub:
        hub.completion("llm.inference", HI)
        list(hub.completion("llm.inference", [{"role": "user", "content": "other"}], stream=True))
        assert secret not in repr(hub._cache.stats()) and secret not in repr(
            hub._cache.store(hub.config.roles["llm.inference"].cache)
        )  # type: ignore[arg-type]
    assert secret.encode() not in db.read_bytes()


@pytest.mark.parametrize(
    ("cache", "needle"),
    [
        ({"backend": "memcached"}, "backend"),
        ({"tll": 5}, "tll"),
        ({"ttl": -1}, "ttl"),
        ({"mode": "semantic"}, "mode"),
    ],
)
def test_cache_config_is_validated(server: StandInServer, cache: dict[str, Any], needle: str) -> None:
    config = server.chat_config()
    config["roles"]["llm.inference"]["cache"] = cache
    with pytest.raises(ConfigValidationError) as info:
        LLMHub(config=config)
    assert any(needle in str(problem) for problem in info.value.problems), info.value.problems
