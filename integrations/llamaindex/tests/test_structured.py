"""structured_predict into pydantic classes: json_schema by default, a forced tool call in FUNCTION mode."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index.core.prompts import PromptTemplate
from llama_index.core.types import PydanticProgramMode
from pydantic import BaseModel, ValidationError

from llama_index.llms.llmhub import RoleLLM
from llmhub_runtime.testing import Reply, StandInServer

PROMPT = PromptTemplate("Extract the invoice: number {number} for customer '{customer}'.")


class Invoice(BaseModel):
    """An invoice."""

    number: int
    customer: str


def _llm(config_path: str, **kwargs: Any) -> RoleLLM:
    return RoleLLM("llm.inference", config_path=config_path, **kwargs)


def _assert_json_schema_request(server: StandInServer, *, stream: bool) -> None:
    [request] = server.requests
    assert request.stream is stream
    response_format = request.body["response_format"]
    assert response_format["type"] == "json_schema"
    assert response_format["json_schema"]["name"] == "Invoice"
    assert response_format["json_schema"]["schema"]["required"] == ["number", "customer"]
    assert "tools" not in request.body
    assert request.body["messages"][-1]["content"] == "Extract the invoice: number 42 for customer 'ACME'."


def test_structured_predict(config_path: str, server: StandInServer) -> None:
    invoice = _llm(config_path).structured_predict(Invoice, PROMPT, number=42, customer="ACME")
    assert invoice == Invoice(number=42, customer="ACME")
    _assert_json_schema_request(server, stream=False)


async def test_astructured_predict(config_path: str, server: StandInServer) -> None:
    invoice = await _llm(config_path).astructured_predict(Invoice, PROMPT, number=42, customer="ACME")
    assert invoice == Invoice(number=42, customer="ACME")
    _assert_json_schema_request(server, stream=False)


def test_stream_structured_predict(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-chat", Reply(chunks=['{"number": 4', "2, ", '"customer": "AC', 'ME"}']))
    partials = list(_llm(config_path).stream_structured_predict(Invoice, PROMPT, number=42, customer="ACME"))
    assert len(partials) >= 4
    assert partials[-1].model_dump() == {"number": 42, "customer": "ACME"}
    _assert_json_schema_request(server, stream=True)


async def test_astream_structured_predict(config_path: str, server: StandInServer) -> None:
    stream = await _llm(config_path).astream_structured_predict(Invoice, PROMPT, number=42, customer="ACME")
    partials = [partial async for partial in stream]
    assert partials[-1].model_dump() == {"number": 42, "customer": "ACME"}
    _assert_json_schema_request(server, stream=True)


def test_invalid_json_raises_validation_error(config_path: str, server: StandInServer) -> None:
    server.enqueue("standin-chat", Reply(text='{"number": "many"}'))
    with pytest.raises(ValidationError):
        _llm(config_path).structured_predict(Invoice, PROMPT, number=1, customer="X")


@pytest.mark.parametrize("use_async", [False, True])
async def test_function_mode_forces_a_tool_call(config_path: str, server: StandInServer, use_async: bool) -> None:
    llm = _llm(config_path, pydantic_program_mode=PydanticProgramMode.FUNCTION)
    if use_async:
        invoice = await llm.astructured_predict(Invoice, PROMPT, number=7, customer="Zed")
    else:
        invoice = llm.structured_predict(Invoice, PROMPT, number=7, customer="Zed")
    assert invoice == Invoice(number=7, customer="Zed")
    [request] = server.requests
    assert request.body["tool_choice"] == "required"
    assert [t["function"]["name"] for t in request.body["tools"]] == ["Invoice"]
    assert "response_format" not in request.body


def test_structured_llm_wrapper(config_path: str, server: StandInServer) -> None:
    structured = _llm(config_path).as_structured_llm(Invoice)
    response = structured.complete("Extract the invoice: number 42 for customer 'ACME'.")
    assert response.raw == Invoice(number=42, customer="ACME")
    assert server.requests[0].body["response_format"]["json_schema"]["name"] == "Invoice"
