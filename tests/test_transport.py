"""``transport: auto`` (the default): aiohttp for OpenAI- and Anthropic-style providers when installed, else httpx."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from any_llm import AnyLLM
from any_llm.providers.anthropic.base import BaseAnthropicProvider
from any_llm.providers.openai.base import BaseOpenAIProvider

from llmhub_runtime import LLMHub
from llmhub_runtime.cli import main
from llmhub_runtime.clients import aiohttp_installed, choose_transport
from llmhub_runtime.providers import sdk_family
from llmhub_runtime.testing import StandInServer

HubFactory = Callable[..., LLMHub]
HI = [{"role": "user", "content": "hello there"}]


def _http_client(hub: LLMHub) -> httpx.AsyncClient:
    [client] = hub._clients._sync.values()  # type: ignore[attr-defined]
    inner: httpx.AsyncClient = client.client._client
    return inner


def _transport_of(config: dict[str, Any], role: str = "llm.inference") -> tuple[str, str]:
    return choose_transport(LLMHub(config=config).resolve(role).primary)


@pytest.mark.parametrize("provider", ["standin", "standin-anthropic"])
def test_default_is_aiohttp_for_openai_and_anthropic_style(
    make_hub: HubFactory, server: StandInServer, provider: str
) -> None:
    cfg = server.chat_config()
    cfg["roles"]["llm.inference"].update(provider=provider, params={"max_tokens": 50})
    hub = make_hub(cfg)
    assert hub.config.providers[provider].transport == "auto"
    assert hub.completion("llm.inference", HI).choices[0].message.content == "Stand-in reply to: hello there"
    assert type(_http_client(hub)).__name__.startswith("LLMHubAioHttpClient")
    assert _transport_of(cfg) == ("aiohttp", "auto: httpx-aiohttp is installed")


def test_httpx_opts_out(make_hub: HubFactory, server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["providers"]["standin"]["transport"] = "httpx"
    hub = make_hub(cfg)
    hub.completion("llm.inference", HI)
    assert "AioHttp" not in type(_http_client(hub)).__name__
    assert isinstance(_http_client(hub)._transport, httpx.AsyncHTTPTransport)
    assert _transport_of(cfg) == ("httpx", "providers.standin.transport")


def test_auto_without_httpx_aiohttp_is_httpx(
    make_hub: HubFactory, server: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "httpx_aiohttp", None)  # what an install without the extra looks like
    assert aiohttp_installed() is False
    hub = make_hub()
    hub.completion("llm.inference", HI)
    assert isinstance(_http_client(hub)._transport, httpx.AsyncHTTPTransport)
    assert _transport_of(hub.config.model_dump()) == (
        "httpx",
        "auto: httpx-aiohttp is not installed (pip install 'llmhub-runtime[aiohttp]')",
    )


def test_credentials_in_api_base_keep_httpx(server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["providers"]["standin"]["api_base"] = server.openai_base.replace("http://", "http://user:secret@")
    transport, why = _transport_of(cfg)
    assert (transport, why) == (
        "httpx",
        "auto: api_base has credentials in it, which aiohttp refuses beside the SDK's auth header",
    )
    assert "secret" not in why


def test_other_providers_keep_their_sdk_client(server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["providers"]["voy"] = {"kind": "voyage", "env_key": None}
    cfg["roles"]["llm.embedding"]["provider"] = "voy"
    assert _transport_of(cfg, "llm.embedding") == (
        "sdk",
        "auto: 'voyage' is not an OpenAI- or Anthropic-style provider",
    )


def test_an_http_client_in_client_args_wins(server: StandInServer) -> None:
    cfg = server.chat_config()
    cfg["providers"]["standin"]["client_args"] = {"http_client": "given"}
    assert _transport_of(cfg) == ("client_args", "providers.standin.client_args.http_client")


def test_explain_shows_the_transport(server: StandInServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "llmhub.yaml"
    path.write_text(
        "providers:\n"
        f"  fast: {{kind: openai, api_base: '{server.openai_base}', env_key: null}}\n"
        f"  plain: {{kind: openai, api_base: '{server.openai_base}', env_key: null, transport: httpx}}\n"
        "roles:\n"
        "  r: {provider: fast, model: m, fallbacks: [{provider: plain, model: m}]}\n",
        encoding="utf-8",
    )
    assert main(["explain", "r", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "  transport   aiohttp   (auto: httpx-aiohttp is installed)\n" in text
    assert "  transport   httpx   (providers.plain.transport)\n" in text


PROVIDERS = sorted(AnyLLM.get_supported_providers())


@pytest.mark.parametrize("kind", PROVIDERS)
def test_sdk_family_equals_the_real_provider_class(kind: str) -> None:
    try:
        cls = AnyLLM.get_provider_class(kind)
    except ImportError as exc:
        pytest.skip(f"any-llm's {kind!r} provider class cannot be imported here: {exc}")
    real = (
        "openai"
        if issubclass(cls, BaseOpenAIProvider)
        else "anthropic"
        if issubclass(cls, BaseAnthropicProvider)
        else None
    )
    assert sdk_family(kind) == real


def test_an_sdk_not_built_on_httpx_keeps_its_own_client(monkeypatch: pytest.MonkeyPatch) -> None:
    """openai 3.x builds on httpx2, which httpx-aiohttp does not serve: auto must not pick aiohttp for it."""
    import types

    from llmhub_runtime.aiohttp_transport import aiohttp_client
    from llmhub_runtime.clients import sdk_on_httpx

    class OtherClient:  # the shape of openai 3.x's DefaultAsyncHttpxClient: not an httpx.AsyncClient
        pass

    sdk = types.ModuleType("sdk_on_httpx2")
    sdk.DefaultAsyncHttpxClient = type("DefaultAsyncHttpxClient", (OtherClient,), {})  # type: ignore[attr-defined]
    sdk.DefaultAioHttpClient = object  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "sdk_on_httpx2", sdk)
    assert sdk_on_httpx("sdk_on_httpx2") is False
    with pytest.raises(RuntimeError, match="not httpx's"):
        aiohttp_client("sdk_on_httpx2")
    assert sdk_on_httpx("openai") is True  # the openai SDK of this test environment (2.x) is on httpx
