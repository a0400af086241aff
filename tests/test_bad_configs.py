"""The bad-config corpus: every file fails with the promised error, key path, line and suggestion.

Each file in ``bad_configs/`` starts with ``# expect:``, ``# path:``, ``# message:`` and
``# suggestion:`` comment lines saying what loading it must report (``# path: *``: any key path,
for problems deep inside a value).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import llmhub_runtime
from llmhub_runtime import ConfigSyntaxError, ConfigValidationError, LLMHubError, load_config

CORPUS = sorted((Path(__file__).parent / "bad_configs").glob("*.yaml"))


def expectations(path: Path) -> dict[str, str]:
    found = {}
    for line in path.read_text().splitlines()[:4]:
        key, _, value = line.removeprefix("# ").partition(": ")
        found[key.rstrip(":")] = value.strip()
    return found


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 40


@pytest.mark.parametrize("path", CORPUS, ids=[p.stem for p in CORPUS])
def test_bad_config(path: Path) -> None:
    expect = expectations(path)
    with pytest.raises(LLMHubError) as info:
        load_config(path)
    error = info.value
    assert type(error) is getattr(llmhub_runtime, expect["expect"])
    text = str(error)
    assert str(path) in text, "the message names the file"
    assert "Traceback" not in text and "pydantic" not in text.lower() and "KeyError" not in text
    if isinstance(error, ConfigSyntaxError):
        assert error.line is not None and error.column is not None
        assert expect["message"] in text
        return
    assert isinstance(error, ConfigValidationError)
    anywhere = expect["path"] == "*"
    matching = [
        p for p in error.problems if (anywhere or p.key_path == expect["path"]) and expect["message"] in p.message
    ]
    assert matching, f"no problem at {expect['path']!r} with {expect['message']!r} in:\n{text}"
    problem = matching[0]
    if anywhere:
        assert problem.line is not None and f"{path}:{problem.line}: {problem.key_path}:" in text
    elif expect["path"]:
        assert problem.line is not None, "the problem names the line"
        assert f"{path}:{problem.line}: {expect['path']}:" in text
    if expect["suggestion"]:
        assert problem.suggestion == expect["suggestion"]
        assert f"did you mean {expect['suggestion']!r}?" in text
