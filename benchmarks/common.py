"""Formatting and checking helpers shared by the sections."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from benchmarks.candidates import chat_content
from benchmarks.harness import Candidate, Check
from benchmarks.server import REPLY_TEXT

__all__ = [
    "ANY_ASYNC",
    "ANY_SYNC",
    "HUB_ASYNC",
    "HUB_SYNC",
    "RAW_ASYNC",
    "RAW_SYNC",
    "TOP_SYNC",
    "check_chat",
    "latency_table",
    "le",
    "median_of",
    "ratio",
    "raw_data",
    "sane",
    "us",
    "why",
    "x",
]

RAW_SYNC = "raw openai.OpenAI (reused)"
HUB_SYNC = "llmhub hub.completion"
ANY_SYNC = "any-llm AnyLLM instance .completion"
TOP_SYNC = "any_llm.completion (top-level)"
RAW_ASYNC = "raw openai.AsyncOpenAI (reused)"
HUB_ASYNC = "llmhub hub.acompletion"
ANY_ASYNC = "any-llm AnyLLM instance .acompletion"


def us(value: float) -> str:
    """A number with thousands separators (one decimal under 100), 'n/a' for NaN."""
    if math.isnan(value):
        return "n/a"
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}"


def ratio(a: float, b: float) -> float:
    """``a / b``, NaN when either is missing."""
    return a / b if b and not (math.isnan(a) or math.isnan(b)) else float("nan")


def x(value: float) -> str:
    """A ratio as ``1.23x``."""
    return "n/a" if math.isnan(value) else f"{value:.2f}x"


def why(exc: BaseException) -> str:
    """One line naming an exception, for an n/a row."""
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:160]


def sane(name: str, call: Callable[[], Any], check: Callable[[Any], None], missing: dict[str, str]) -> bool:
    """Run ``call`` once and ``check`` its answer; a failure moves the candidate to ``missing``."""
    try:
        check(call())
        return True
    except Exception as exc:
        missing[name] = why(exc)
        return False


def check_chat(response: Any) -> None:
    """The answer is the server's reply, whatever wraps it (ChatCompletion, AIMessage, ChatResponse)."""
    if hasattr(response, "choices"):
        text = chat_content(response)
    elif hasattr(response, "message"):
        text = response.message.content
    else:
        text = response.content
    assert text == REPLY_TEXT, text


def median_of(cands: Sequence[Candidate], name: str) -> float:
    for cand in cands:
        if cand.name == name:
            return cand.summary.median
    return float("nan")


def latency_table(cands: Sequence[Candidate], missing: dict[str, str], refs: Sequence[tuple[str, str]]) -> list[str]:
    """Markdown rows: n, median, p10-p90, CPU per call, and a ratio column per (label, reference name)."""
    head = "| candidate | n | median µs | p10-p90 µs | CPU µs/call |" + "".join(f" x {lbl} |" for lbl, _ in refs)
    lines = [head, "|" + "---|" * (5 + len(refs))]
    for cand in cands:
        s = cand.summary
        cols = [x(ratio(s.median, median_of(cands, ref))) for _, ref in refs]
        lines.append(
            f"| {cand.name} | {s.n} | {us(s.median)} | {s.spread} | {us(cand.cpu_us)} |"
            + "".join(f" {c} |" for c in cols)
        )
    for name, reason in missing.items():
        lines.append(f"| {name} | n/a | n/a | | |" + " n/a |" * len(refs) + f"  ← {reason}")
    return lines


def le(target: str, a: float, b: float, limit: float, what: str) -> Check:
    """Check ``a / b <= limit``."""
    r = ratio(a, b)
    ok = None if math.isnan(r) else r <= limit
    return Check(target, f"{r:.3f}x ({what})" if ok is not None else "n/a", f"≤ {limit:.2f}x", ok)


def raw_data(cands: Sequence[Candidate]) -> dict[str, Any]:
    return {
        c.name: {"n": c.summary.n, "median_us": c.summary.median, "p10_us": c.summary.p10,
                 "p90_us": c.summary.p90, "cpu_us": c.cpu_us}
        for c in cands
    }  # fmt: skip
