"""``WindowLimit``: a stand-in script that enforces a provider-style rate limit (429 beyond it).

At most ``count`` requests are answered in any window of ``seconds`` (a sliding log, the strictest
way a provider may count); the others get a 429 with ``Retry-After``. Thread-safe, and it
records when each request was answered, so a test can measure the goodput it got::

    limit = WindowLimit(count=20, seconds=1.0)
    server.script("*", limit)
    ...
    assert limit.rejected == 0
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

from llmhub_runtime.testing.replies import Fault, RecordedRequest, Reply

__all__ = ["WindowLimit"]


class WindowLimit:
    """Answer at most ``count`` requests per sliding ``seconds``; 429 with Retry-After beyond."""

    __test__ = False

    def __init__(
        self,
        count: int,
        seconds: float,
        *,
        reply: Callable[[RecordedRequest], Reply | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.count = count
        self.seconds = seconds
        self.reply = reply
        self.clock = clock
        self.accepted: list[float] = []
        self.rejected = 0
        self._window: deque[float] = deque()
        self._lock = threading.Lock()

    def __call__(self, request: RecordedRequest) -> Reply | Fault | None:
        with self._lock:
            now = self.clock()
            while self._window and self._window[0] <= now - self.seconds:
                self._window.popleft()
            if len(self._window) >= self.count:
                self.rejected += 1
                wait = self._window[0] + self.seconds - now
                return Fault(status=429, headers={"Retry-After": str(max(1, math.ceil(wait)))})
            self._window.append(now)
            self.accepted.append(now)
        return self.reply(request) if self.reply is not None else None

    def goodput(self) -> float:
        """Accepted requests per second in steady state: ``count`` over the mean time a slot took to be reused.

        A client that uses the limit perfectly sends request ``i + count`` exactly ``seconds`` after
        request ``i``, which gives ``count / seconds``; ``inf`` until more than ``count`` were accepted.
        """
        times = sorted(self.accepted)
        gaps = [later - earlier for earlier, later in zip(times, times[self.count :], strict=False)]
        return self.count / (sum(gaps) / len(gaps)) if gaps else math.inf

    def reset(self) -> None:
        with self._lock:
            self.accepted.clear()
            self._window.clear()
            self.rejected = 0
