"""The two state stores keep the same contract: all-or-nothing, sliding windows, reservations, cooldowns.

Every test runs against ``MemoryStore`` (fake clock) and ``RedisStore`` (a real redis-server,
clocked by the server: its waits are checked as ranges, never slept on).
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from llmhub_runtime.traffic.config import Cooldown
from llmhub_runtime.traffic.demand import POLL, Blocked, Check, Demand, Grant, Lease
from llmhub_runtime.traffic.memory import MemoryStore
from llmhub_runtime.traffic.periods import period_of
from llmhub_runtime.traffic.redis_store import RedisStore

RPM2 = Check("requests", "role:a", "rpm", 2, window=60.0)
ONE_AT_A_TIME = Check("concurrent", "provider:p", "max_concurrent", 1)
TPM100 = Check("tokens", "role:a", "tpm", 100, window=60.0)
BUDGET = Check("budget", "provider:p", "budget/day", 1.0, period="day")


class Clock:
    def __init__(self) -> None:
        self.now = 1_760_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> Iterator[MemoryStore | RedisStore]:
    if request.param == "memory":
        yield MemoryStore(Clock())
        return
    redis_store = RedisStore(request.getfixturevalue("redis_url"), timeout=2.0)
    yield redis_store
    redis_store.close()


def demand(*pairs: tuple[Check, float], cooldown: Cooldown | None = None) -> Demand:
    return Demand("p/m", tuple(c for c, _ in pairs), tuple(w for _, w in pairs), cooldown, lease_ttl=600.0,
                  probe_ttl=60.0)  # fmt: skip


def grant(verdict: Grant | Blocked) -> Lease:
    assert isinstance(verdict, Grant), verdict
    return verdict.lease


def used(store: MemoryStore | RedisStore, check: Check) -> float:
    return store.snapshot([check], "p/m")["used"][check.key]


def advance(store: MemoryStore | RedisStore, seconds: float) -> bool:
    """Move a memory store's clock; False for Redis (its clock is the server's)."""
    if isinstance(store, MemoryStore):
        assert isinstance(store.clock, Clock)
        store.clock.now += seconds
        return True
    return False


def test_limits_are_charged_all_or_nothing(store: MemoryStore | RedisStore) -> None:
    both = demand((RPM2, 1), (ONE_AT_A_TIME, 1))
    first = grant(store.acquire(both))
    blocked = store.acquire(both)
    assert isinstance(blocked, Blocked) and blocked.check == ONE_AT_A_TIME and blocked.retry_after == POLL
    assert used(store, RPM2) == 1  # the refused demand charged nothing
    store.settle(first, "ok", [1, 1], None)
    grant(store.acquire(both))
    assert used(store, RPM2) == 2
    third = store.acquire(both)
    assert isinstance(third, Blocked) and third.check in (RPM2, ONE_AT_A_TIME)


def test_a_sliding_window_says_when_it_has_room(store: MemoryStore | RedisStore) -> None:
    rpm = demand((RPM2, 1))
    grant(store.acquire(rpm))
    advance(store, 10)
    grant(store.acquire(rpm))
    blocked = store.acquire(rpm)
    assert isinstance(blocked, Blocked) and blocked.check == RPM2
    assert 49 < blocked.retry_after <= 60.001  # the first entry leaves the window 60 s after it came
    if advance(store, blocked.retry_after):
        grant(store.acquire(rpm))


def test_tokens_are_reserved_then_settled_to_the_real_usage(store: MemoryStore | RedisStore) -> None:
    first = grant(store.acquire(demand((TPM100, 60))))
    blocked = store.acquire(demand((TPM100, 60)))
    assert isinstance(blocked, Blocked) and 59 < blocked.retry_after <= 60.001
    store.settle(first, "ok", [30], None)
    assert used(store, TPM100) == 30
    grant(store.acquire(demand((TPM100, 60))))
    assert used(store, TPM100) == 90


def test_a_call_larger_than_the_limit_never_fits(store: MemoryStore | RedisStore) -> None:
    blocked = store.acquire(demand((TPM100, 101)))
    assert isinstance(blocked, Blocked) and math.isinf(blocked.retry_after)
    assert used(store, TPM100) == 0


def test_a_failed_call_gives_its_tokens_back_but_keeps_its_request(store: MemoryStore | RedisStore) -> None:
    lease = grant(store.acquire(demand((RPM2, 1), (TPM100, 80))))
    store.settle(lease, "other", [1, 0], None)
    assert used(store, TPM100) == 0 and used(store, RPM2) == 1


def test_a_budget_stops_at_its_cap_for_the_rest_of_the_period(store: MemoryStore | RedisStore) -> None:
    first = grant(store.acquire(demand((BUDGET, 0.4))))
    grant(store.acquire(demand((BUDGET, 0.4))))
    blocked = store.acquire(demand((BUDGET, 0.4)))
    assert isinstance(blocked, Blocked) and blocked.check == BUDGET
    now = time.time() if isinstance(store, RedisStore) else store.clock()
    assert blocked.retry_after == pytest.approx(period_of("day", now)[1] - now, abs=2)
    store.settle(first, "ok", [0.1], None)  # it cost less than reserved
    grant(store.acquire(demand((BUDGET, 0.4))))
    assert used(store, BUDGET) == pytest.approx(0.9)


@pytest.mark.parametrize("period", ["minute", "hour", "day", "week", "month"])
def test_budget_periods_end_where_the_calendar_says(store: MemoryStore | RedisStore, period: str) -> None:
    check = Check("budget", f"x:{period}", f"budget/{period}", 1.0, period=period)
    grant(store.acquire(demand((check, 1.0))))
    blocked = store.acquire(demand((check, 0.5)))
    assert isinstance(blocked, Blocked)
    now = time.time() if isinstance(store, RedisStore) else store.clock()
    ends = datetime.fromtimestamp(now + blocked.retry_after, UTC)
    assert (ends.second, ends.microsecond // 100_000) in ((0, 0), (59, 9))  # on a boundary (ms rounding)
    rounded = datetime.fromtimestamp(round(now + blocked.retry_after), UTC)
    if period in ("hour", "day", "week", "month"):
        assert rounded.minute == 0
    if period in ("day", "week", "month"):
        assert rounded.hour == 0
    if period == "week":
        assert rounded.weekday() == 0
    if period == "month":
        assert rounded.day == 1


def test_python_periods_match_the_calendar() -> None:
    rng = random.Random(7)
    for _ in range(500):
        now = rng.uniform(0, 4_000_000_000)
        moment = datetime.fromtimestamp(now, UTC)
        index, ends = period_of("month", now)
        assert index == moment.year * 12 + moment.month - 1
        following = datetime(moment.year + moment.month // 12, moment.month % 12 + 1, 1, tzinfo=UTC)
        assert ends == following.timestamp()
        _, week_ends = period_of("week", now)
        assert datetime.fromtimestamp(week_ends, UTC).weekday() == 0 and 0 < week_ends - now <= 7 * 86400


def test_cooldowns_honour_retry_after_and_are_extended_never_shortened(store: MemoryStore | RedisStore) -> None:
    cooldown = Cooldown(failures=2, seconds=30)
    lease = grant(store.acquire(demand(cooldown=cooldown)))
    store.settle(lease, "fail", [], 5.0)  # a 429 with Retry-After: 5
    blocked = store.acquire(demand(cooldown=cooldown))
    assert isinstance(blocked, Blocked) and blocked.check is None and blocked.reason == "cooling"
    assert 4 < blocked.retry_after <= 5.01
    if not advance(store, 5.0):
        return
    lease = grant(store.acquire(demand(cooldown=cooldown)))
    store.settle(lease, "fail", [], 1.0)  # second failure in a row: tripped for 30 s
    blocked = store.acquire(demand(cooldown=cooldown))
    assert isinstance(blocked, Blocked) and blocked.retry_after == pytest.approx(30)
    advance(store, 29.0)
    assert store.snapshot([], "p/m")["tripped"] is True


def test_a_tripped_target_lets_one_probe_through_at_a_time(store: MemoryStore | RedisStore) -> None:
    cooldown = Cooldown(failures=1, seconds=0.05)
    store.settle(grant(store.acquire(demand(cooldown=cooldown))), "fail", [], None)
    assert isinstance(store.acquire(demand(cooldown=cooldown)), Blocked)
    if not advance(store, 0.05):
        deadline = time.monotonic() + 5
        while store.snapshot([], "p/m")["cooling_for"] > 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # Redis's own clock must pass the cooldown
    probe = grant(store.acquire(demand(cooldown=cooldown)))
    assert probe.probe
    other = store.acquire(demand(cooldown=cooldown))
    assert isinstance(other, Blocked) and other.reason == "cooling"  # the probe is out
    store.settle(probe, "ok", [], None)
    after = grant(store.acquire(demand(cooldown=cooldown)))
    assert not after.probe
    assert store.snapshot([], "p/m")["failures"] == 0


def test_redis_keys_share_one_hash_tag(redis_url: str) -> None:
    import redis

    store = RedisStore(redis_url, prefix="myapp")
    store.acquire(demand((RPM2, 1), (TPM100, 10), (ONE_AT_A_TIME, 1), (BUDGET, 0.1)))
    keys = sorted(k.decode() for k in redis.Redis.from_url(redis_url).keys("*"))
    assert keys and all(k.startswith("{myapp}:") for k in keys)
    store.close()
