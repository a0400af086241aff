"""Config load + validation time on adversarial but plausible files (issue 18 item 9, item 3).

    python benchmarks/config_load.py            # this checkout
    PYTHONPATH=/path/to/other/checkout python benchmarks/config_load.py

Each case is written to a temp file and loaded once in a child process with a time limit, so a
case that hangs or eats memory is reported as such instead of stopping the run.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

LIMIT = 60.0


def roles_with_undefined_fallback(n: int = 3000) -> str:
    rows = [f"  llm.role{i}: {{provider: openai, model: m, fallbacks: [{{role: llm.rol{i}}}]}}" for i in range(n)]
    return "roles:\n" + "\n".join(rows) + "\n"


def diamond(depth: int = 18) -> str:
    rows = []
    for level in range(depth):
        for side in "ab":
            nxt = f"[{{role: a{level + 1}}}, {{role: b{level + 1}}}]" if level + 1 < depth else "[]"
            rows.append(f"  {side}{level}: {{provider: openai, model: m, fallbacks: {nxt}}}")
    return "roles:\n" + "\n".join(rows) + "\n"


def billion_laughs(levels: int = 7) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"roles: {{r: {{provider: openai, model: m, params: {{x: *a{levels}}}}}}}")
    return "\n".join(lines) + "\n"


def huge_provider_name(size: int = 10_000_000) -> str:
    return f"roles:\n  r: {{provider: {'p' * size}, model: m}}\n"


CASES = {
    "3,000 roles, undefined fallbacks": roles_with_undefined_fallback,
    "diamond fallbacks, depth 18": diamond,
    "billion laughs, 7 levels": billion_laughs,
    "10 MB provider name": huge_provider_name,
}

CHILD = """
import sys, time
from llmhub_runtime import load_config
start = time.perf_counter()
try:
    load_config(sys.argv[1])
    outcome = "loaded"
except Exception as exc:
    outcome = type(exc).__name__
print(f"{time.perf_counter() - start:.3f} {outcome}")
"""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        for name, make in CASES.items():
            path = Path(tmp) / "llmhub.yaml"
            path.write_text(make())
            try:
                done = subprocess.run(  # noqa: S603 - our own interpreter and script
                    [sys.executable, "-c", CHILD, str(path)],
                    capture_output=True,
                    text=True,
                    timeout=LIMIT,
                    check=False,
                    cwd=tmp,
                )
                seconds, _, outcome = done.stdout.strip().partition(" ")
                result = f"{float(seconds):8.2f} s  {outcome}" if seconds else f"crashed: {done.stderr[-200:]}"
            except subprocess.TimeoutExpired:
                result = f"> {LIMIT:.0f} s (stopped)"
            print(f"{name:36} {result}")


if __name__ == "__main__":
    time.sleep(0)
    main()
