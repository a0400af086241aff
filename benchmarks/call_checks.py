"""What the call-time parameter checks cost per call (``inputs.check_call_params``), in microseconds.

    python benchmarks/call_checks.py

Bounded: a fixed number of calls per case; prints the median of five runs.
"""

from __future__ import annotations

import statistics
import timeit

from llmhub_runtime.inputs import check_call_params

CASES = {
    "no params": {},
    "chat params": {"temperature": 0.2, "max_tokens": 256, "timeout": 30},
    "with a tool": {"temperature": 0.2, "tools": [{"type": "function", "function": {"name": "f", "parameters": {}}}]},
}
CALLS = 5_000


def main() -> None:
    for name, args in CASES.items():
        check_call_params(args, str, chat=True)  # imports and pydantic build outside the timing
        runs = timeit.repeat(lambda args=args: check_call_params(args, str, chat=True), number=CALLS, repeat=5)
        print(f"{name:<12} {statistics.median(runs) / CALLS * 1e6:6.1f} us per call")


if __name__ == "__main__":
    main()
