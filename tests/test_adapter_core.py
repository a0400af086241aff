"""``llmhub_runtime.adapter_core``: the one place both framework adapters take their rules from."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from llmhub_runtime import InvalidInputError, LLMHub, ProviderServerError, UsageError
from llmhub_runtime.adapter_core import (
    CONFIG_ONLY_KEYS,
    HubLookup,
    attach_hooks,
    batches,
    embedding_vectors,
    fingerprint_digest,
    fingerprint_key,
    hub_args,
    merge_params,
    refuse_call_kwargs,
    refuse_init_kwargs,
    role_fingerprint,
)
from llmhub_runtime.testing import StandInServer

from .conftest import Recorder

HubFactory = Callable[..., LLMHub]
SECRET = "sk-adapter-core-secret-0451"
HI = [{"role": "user", "content": "hi"}]


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key", [*sorted(CONFIG_ONLY_KEYS), "openai_api_key", "anthropic_api_base", "openai_organization"]
)
def test_config_only_kwargs_are_refused_with_a_pointer_to_the_config(key: str) -> None:
    with pytest.raises(UsageError, match=rf"^Owner takes no {key}=: .*llmhub\.yaml.*config_path=") as caught:
        refuse_init_kwargs({key: SECRET, "temperature": 0}, "Owner", "llm.inference")
    assert SECRET not in str(caught.value)
    with pytest.raises(InvalidInputError, match=rf"^Owner takes no {key}= per call: .*llmhub\.yaml"):
        refuse_call_kwargs({key: SECRET}, "Owner", "llm.inference")


@pytest.mark.parametrize("key", ["model", "model_name"])
def test_models_are_refused_at_construction_and_per_call(key: str) -> None:
    with pytest.raises(UsageError, match=rf"takes no {key}=: the role decides .* roles\.llm\.x\.model"):
        refuse_init_kwargs([key], "Owner", "llm.x")
    with pytest.raises(InvalidInputError, match=r"calls role 'llm\.x'; its model .* cannot be overridden per call"):
        refuse_call_kwargs([key], "Owner", "llm.x")


def test_ordinary_params_pass() -> None:
    refuse_init_kwargs(["temperature", "top_p", "dimensions", "seed", "project"], "Owner")
    refuse_call_kwargs(["tools", "tool_choice", "stop", "response_format"], "Owner", "llm.x")


def test_hub_args(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, make_hub: HubFactory) -> None:
    monkeypatch.setenv("LLMHUB_CONFIG", "/etc/app/llmhub.yaml")
    assert hub_args(None, None, "Owner") == (None, "/etc/app/llmhub.yaml")  # read now, at construction
    assert hub_args(None, tmp_path / "a.yaml", "Owner") == (None, str(tmp_path / "a.yaml"))
    hub = make_hub()
    assert hub_args(hub, None, "Owner") == (hub, None)
    with pytest.raises(UsageError, match=r"Pass Owner\(hub=...\) or Owner\(config_path=...\), not both"):
        hub_args(hub, "a.yaml", "Owner")
    with pytest.raises(UsageError, match=r"Owner\(hub=...\) takes an LLMHub, not str"):
        hub_args("hub", None, "Owner")
    with pytest.raises(UsageError, match=r"takes a path, not int"):
        hub_args(None, 3, "Owner")
    monkeypatch.delenv("LLMHUB_CONFIG")
    assert hub_args(None, None, "Owner") == (None, None)


# --- None means "remove" ------------------------------------------------------------------------


def test_merge_params_lays_layers_in_order_and_none_removes() -> None:
    role = {"temperature": 0.7, "max_tokens": 50, "top_p": 0.9}
    merged = merge_params(role, {"temperature": None, "seed": 1}, None, {"max_tokens": 5, "absent": None})
    assert merged == {"max_tokens": 5, "top_p": 0.9, "seed": 1}
    assert role == {"temperature": 0.7, "max_tokens": 50, "top_p": 0.9}  # not modified


def test_hub_and_merge_params_agree_on_none(make_hub: HubFactory, server: StandInServer) -> None:
    config = server.chat_config()
    config["roles"]["llm.inference"]["params"] = {"temperature": 0.7, "top_p": 0.9}
    hub = make_hub(config)
    override = {"temperature": None, "seed": 3}
    hub.completion("llm.inference", HI, params_override=override)
    sent = {key: server.last_request.body.get(key) for key in ("temperature", "top_p", "seed")}
    expected = merge_params(hub.resolve("llm.inference").params, override)
    assert sent == {"temperature": expected.get("temperature"), "top_p": 0.9, "seed": 3}
    assert "temperature" not in server.last_request.body


# --- which hub ----------------------------------------------------------------------------------


def _write(path: Path, config: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def test_hub_lookup_finds_the_shared_hub_once(
    tmp_path: Path, server: StandInServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(_write(tmp_path / "llmhub.yaml", server.chat_config()))
    calls: list[str | None] = []
    shared = LLMHub.shared.__func__  # type: ignore[attr-defined]

    def counting(cls: type[LLMHub], config_path: str | None = None) -> LLMHub:
        calls.append(config_path)
        return shared(cls, config_path)  # type: ignore[no-any-return]

    monkeypatch.setattr(LLMHub, "shared", classmethod(counting))
    lookup = HubLookup(None, path)
    first = lookup()
    assert all(lookup() is first for _ in range(5))
    assert calls == [path]
    first.close()  # a closed shared hub is looked up again, and LLMHub.shared builds a new one
    second = lookup()
    assert second is not first and not second._closed
    assert calls == [path, path]
    second.close()


def test_an_explicit_hub_is_kept_even_closed(make_hub: HubFactory) -> None:
    hub = make_hub()
    lookup = HubLookup(hub)
    hub.close()
    assert lookup() is hub
    assert lookup.matches(hub, None) and not lookup.matches(None, None)


def test_hooks_attach_once_and_see_calls(make_hub: HubFactory, recorder: Recorder) -> None:
    hub = make_hub()
    HubLookup(hub, hooks=[recorder])()
    HubLookup(hub, hooks=[recorder])()  # a second adapter with the same hook: not added twice
    attach_hooks(hub, [recorder])
    hub.completion("llm.inference", HI)
    assert recorder.kinds() == ["start", "end"]


# --- cache fingerprints -------------------------------------------------------------------------


def _fingerprint_config(server: StandInServer, **changes: Any) -> dict[str, Any]:
    config = server.chat_config(model=changes.pop("model", "m-1"))
    config["providers"]["standin"].update(changes.pop("provider", {}))
    config["roles"]["llm.inference"].update(changes)
    return config


def test_fingerprint_changes_with_what_decides_the_answer(make_hub: HubFactory, server: StandInServer) -> None:
    def key(**changes: Any) -> str:
        return fingerprint_key(make_hub(_fingerprint_config(server, **changes)).resolve("llm.inference"))

    base = key()
    assert key() == base  # stable across hubs of equal configs
    assert key(model="m-2") != base
    assert key(params={"temperature": 0.1}) != base
    assert key(provider={"api_base": "http://127.0.0.1:9/v1"}) != base
    assert key(fallbacks=[{"provider": "standin", "model": "m-backup"}]) != base
    call = make_hub(_fingerprint_config(server)).resolve("llm.inference")
    assert fingerprint_key(call, {"temperature": 0.5}) != fingerprint_key(call)
    assert fingerprint_key(call, {"temperature": None}) == fingerprint_key(call)  # nothing to remove
    digest = fingerprint_digest(call)
    assert len(digest) == 16 and int(digest, 16) >= 0
    assert fingerprint_digest(call, {"temperature": 0.5}) != digest


def test_fingerprint_names_each_target_and_the_env(make_hub: HubFactory, server: StandInServer) -> None:
    config = _fingerprint_config(
        server, params={"temperature": 0.3}, fallbacks=[{"provider": "standin", "model": "m-b"}]
    )
    config["envs"] = {"prod": {"roles": {"llm.inference": {"model": "m-prod"}}}}
    fingerprint = role_fingerprint(make_hub(config, env="prod").resolve("llm.inference"), {"seed": 1})
    assert (fingerprint["role"], fingerprint["env"], fingerprint["mode"]) == ("llm.inference", "prod", "chat")
    assert [(t["provider"], t["kind"], t["model"]) for t in fingerprint["targets"]] == [
        ("standin", "openai", "m-prod"),
        ("standin", "openai", "m-b"),
    ]
    assert fingerprint["targets"][0]["params"] == {"temperature": 0.3, "seed": 1}
    assert fingerprint["targets"][0]["api_base"] == server.openai_base
    json.dumps(fingerprint)  # JSON-ready


def test_fingerprint_keeps_no_secret(make_hub: HubFactory, server: StandInServer) -> None:
    config = _fingerprint_config(
        server,
        provider={
            "api_base": f"http://user:{SECRET}@127.0.0.1:9/v1?api-key={SECRET}&api-version=2024",
            "client_args": {"default_headers": {"Authorization": f"Bearer {SECRET}"}, "http_client": object()},
        },
        params={"extra_headers": {"X-Api-Key": SECRET}, "max_tokens": 64, "logit_bias": {"50256": -100}},
    )
    key = fingerprint_key(make_hub(config).resolve("llm.inference"))
    assert SECRET not in key
    assert '"max_tokens":64' in key and '"50256":-100' in key  # ordinary params stay readable
    assert "api-version=2024" in key and "127.0.0.1:9/v1" in key
    assert "<object>" in key  # objects by type name: stable from one process to the next
    other = dict(config, providers={**config["providers"]})
    other["providers"]["standin"] = {**config["providers"]["standin"], "api_base": "http://user:other@127.0.0.1:9/v1"}
    assert fingerprint_key(make_hub(other).resolve("llm.inference")) != key


# --- embeddings ---------------------------------------------------------------------------------


class _Item:
    def __init__(self, index: int, embedding: list[float]) -> None:
        self.index, self.embedding = index, embedding


class _Response:
    model = "m"

    def __init__(self, *vectors: list[float]) -> None:
        self.data = [_Item(i, v) for i, v in reversed(list(enumerate(vectors)))]


def test_embedding_vectors_come_in_input_order() -> None:
    assert embedding_vectors(_Response([1, 0], [0, 1]), 2) == [[1.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize(
    ("response", "fragment"),
    [
        (_Response([1.0]), r"returned 1 embedding\(s\) for 2 input\(s\)"),
        (_Response([1.0, 0.0], [1.0]), r"length\(s\) 1, 2 in one response"),
        (_Response([], []), r"length\(s\) 0 in one response"),
    ],
)
def test_embedding_vectors_that_cannot_be_matched_are_the_providers_failure(response: Any, fragment: str) -> None:
    with pytest.raises(ProviderServerError, match=fragment) as caught:
        embedding_vectors(response, 2, role="llm.embedding")
    assert (caught.value.role, caught.value.model) == ("llm.embedding", "m")


def test_batches() -> None:
    assert [len(batch) for batch in batches([str(i) for i in range(250)], 100)] == [100, 100, 50]
    assert list(batches([], 10)) == []
    with pytest.raises(UsageError, match="at least 1"):
        list(batches(["a"], 0))
