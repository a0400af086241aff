"""`unused_port()`, `clean_provider_env()` and the server lifecycle."""

from __future__ import annotations

import os
import socket

import httpx
import pytest

from llmhub_runtime.testing import StandInServer, clean_provider_env, unused_port


def test_unused_port_refuses_connections() -> None:
    port = unused_port()

    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), timeout=1):
        pass


def test_clean_provider_env_removes_and_restores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://elsewhere")
    monkeypatch.setenv("MISTRAL_API_BASE", "http://mistral")
    monkeypatch.setenv("UNRELATED_SETTING", "kept")

    with clean_provider_env():
        assert "OPENAI_API_KEY" not in os.environ
        assert "ANTHROPIC_BASE_URL" not in os.environ
        assert "MISTRAL_API_BASE" not in os.environ
        assert os.environ["UNRELATED_SETTING"] == "kept"
        os.environ["GROQ_API_KEY"] = "set-inside"

    assert os.environ["OPENAI_API_KEY"] == "sk-secret"
    assert os.environ["ANTHROPIC_BASE_URL"] == "http://elsewhere"
    assert "GROQ_API_KEY" not in os.environ


def test_clean_provider_env_keep(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret")

    with clean_provider_env(keep=["OPENAI_API_KEY"]):
        assert os.environ["OPENAI_API_KEY"] == "sk-secret"


def test_lifecycle_start_stop_and_addresses() -> None:
    server = StandInServer()
    assert StandInServer.__test__ is False
    with pytest.raises(RuntimeError, match="not running"):
        _ = server.url

    server.start()
    port = server.port
    try:
        assert server.url == f"http://127.0.0.1:{server.port}"
        assert server.openai_base == server.url + "/v1"
        assert server.anthropic_base == server.url
        assert httpx.get(server.url + "/health").status_code == 200
        assert server.start() is server
    finally:
        server.stop()
    server.stop()

    assert repr(server) == "<StandInServer stopped>"
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/health")


def test_keep_alive_reuses_one_connection(server: StandInServer) -> None:
    peers: set[tuple[str, int]] = set()
    with httpx.Client(base_url=server.openai_base) as client:
        for _ in range(5):
            response = client.post(
                "/chat/completions", json={"model": "m", "messages": [{"role": "user", "content": "x"}]}
            )
            assert response.status_code == 200
            stream = response.extensions["network_stream"]
            peers.add(stream.get_extra_info("client_addr"))

    assert len(peers) == 1
