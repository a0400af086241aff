"""``FakeTimer``: a clock and sleep that record waits instead of waiting (for retry tests)."""

from __future__ import annotations

from llmhub_runtime.retry import Timer

__all__ = ["FakeTimer"]


class FakeTimer(Timer):
    """Records every wait in ``sleeps`` and advances its clock by it; jitter is fixed (default 1.0).

    >>> timer = FakeTimer()
    >>> hub = LLMHub(config=..., timer=timer)   # doctest: +SKIP
    >>> timer.sleeps                              # doctest: +SKIP
    [0.5, 1.0]
    """

    __test__ = False

    def __init__(self, *, start: float = 1000.0, jitter: float = 1.0) -> None:
        self.clock = start
        self.sleeps: list[float] = []
        self._jitter = jitter

    def now(self) -> float:
        return self.clock

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.clock += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)

    def jitter(self) -> float:
        return self._jitter
