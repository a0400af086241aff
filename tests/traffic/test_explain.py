"""``llmhub explain`` shows a role's limits and the live shared state: usage, remaining budget, cooldowns."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from llmhub_runtime import LLMHub
from llmhub_runtime.cli import main
from llmhub_runtime.testing import Fault, Reply, StandInServer


def test_explain_shows_limits_and_the_live_state(
    tmp_path: Path, server: StandInServer, redis_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = server.chat_config(model="model-a")
    config["traffic"] = {"state": redis_url}
    config["roles"]["llm.inference"].update(
        pricing={"input": 62500, "output": 62500},
        params={"max_tokens": 5},
        limits={"rpm": 60, "budget": {"amount": 5, "period": "day"}},
        cooldown={"failures": 2, "seconds": 30},
        fallbacks=[{"provider": "standin", "model": "model-b"}],
        weight=3,  # the only weighted target: always first
        retry={"max_attempts": 1},
    )
    path = tmp_path / "llmhub.yaml"
    path.write_text(yaml.safe_dump(config))
    server.enqueue("model-a", Reply(text="a b c d e", usage=(5, 5)), Fault(status=429, headers={"Retry-After": "20"}))
    with LLMHub(path) as hub:  # another process would do the same: the state is in Redis
        hub.completion("llm.inference", "hi")
        hub.completion("llm.inference", "hi")  # 429 on model-a: answered by model-b, model-a cools 20 s
    assert main(["explain", "llm.inference", "--config", str(path)]) == 0
    text = capsys.readouterr().out
    assert "  weight      3\n" in text
    assert (
        "  limits      rpm 60 (used 2)   from roles.llm.inference.limits [scope role:llm.inference, policy wait]"
        in text
    )
    assert "budget/day 5 (spent 0.625, remaining 4.375)" in text
    cooling = re.search(
        r"  cooldown    after 2 failures in a row, 30s; now cooling for ([\d.]+)s \(1 failures in a row\)", text
    )
    assert cooling is not None and 15 < float(cooling.group(1)) <= 20
    assert f"Traffic state: {redis_url} (shared by every worker)." in text
    assert main(["explain", "llm.inference", "--config", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    primary = report["targets"][0]["traffic"]
    assert primary["limits"][1] == {"scope": "role:llm.inference", "limit": "budget/day", "max": 5.0, "used": 0.625,
                                    "policy": "wait", "where": "roles.llm.inference.limits"}  # fmt: skip
    assert primary["cooldown"]["recent_failures"] == 1 and 19 < primary["cooldown"]["cooling_for"] <= 20
